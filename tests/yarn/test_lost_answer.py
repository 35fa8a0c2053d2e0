"""A lost answer to a YARN submission (issue 20, item 4), on the REAL local YARN cluster.

The real Flink CLI deploys the application, then the CLI process dies (SIGKILL) or hangs past the connection's
``cli_timeout``, so the task never hears its answer: the target finds the application by the job's tag and
follows it. A CLI that hangs before submitting anything leaves YARN without an application: the task says so
clearly (a retryable error; the next try looks again before submitting). The fault is injected at the edge,
in a wrapper around the real CLI; everything else is the real CLI and the real ResourceManager.
"""

from __future__ import annotations

import json
import logging
import shlex
import time
from pathlib import Path

import pytest
from conftest import make_request, slow_sql
from real_yarn import apps, wait_until_final

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.targets.base import SubmissionAnswerLost
from airflow_provider_flinkbatch.targets.registry import create_target
from airflow_provider_flinkbatch.yarn.target import YarnTarget

pytestmark = pytest.mark.integration
CONN = "flink_yarn_lossy_cli"
#: the wrapper around the real CLI, per fault: run it and then die or hang, or hang without running it.
FAULTS = {
    "killed": '{flink} "$@" > {out} 2>&1; kill -9 $$',
    "hung": '{flink} "$@" > {out} 2>&1; exec sleep 600',
    "never-sent": "exec sleep 600",
}


def lossy_target(
    local_yarn: LocalYarnCluster, folder: Path, fault: str, cli_timeout: float, monkeypatch: pytest.MonkeyPatch
) -> YarnTarget:
    info = local_yarn.info()
    assert info is not None
    wrapper = folder / "flink"
    script = FAULTS[fault].format(flink=shlex.quote(info.flink_cli), out=shlex.quote(str(folder / "cli.txt")))
    wrapper.write_text(f"#!/bin/sh\n{script}\n")
    wrapper.chmod(0o755)
    conn = json.loads(info.connection_uri_json())
    conn["extra"].update({"flink_cli": str(wrapper), "cli_timeout": cli_timeout})
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))
    target = create_target("yarn", CONN, {}, RetryPolicy(budget=30.0))
    assert isinstance(target, YarnTarget)
    return target


def tagged(local_yarn: LocalYarnCluster, job_id: str) -> list[dict[str, object]]:
    return apps(local_yarn, applicationTags=f"flinkbatch-job-{job_id}")


@pytest.mark.parametrize(("fault", "cli_timeout"), [("killed", 600.0), ("hung", 90.0)])
def test_a_cli_that_dies_or_hangs_after_yarn_accepted_the_application_is_followed(
    local_yarn: LocalYarnCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    cli_timeout: float,
) -> None:
    target = lossy_target(local_yarn, tmp_path, fault, cli_timeout, monkeypatch)
    request = make_request(slow_sql(40, 20), f"yarn.lost-answer.{fault}")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        handle = target.submit(request)
    [app] = tagged(local_yarn, request.job_id)  # the RM's own record: one application, the one followed
    assert handle.ref == app["id"] and handle.job_id == request.job_id
    log = "\n".join(record.getMessage() for record in caplog.records)
    lost = "killed by signal 9" if fault == "killed" else f"did not finish within {cli_timeout:g}s"
    assert f"No answer from the flink CLI for job {request.job_id} (" in log and lost in log, log
    assert (
        f"YARN runs job {request.job_id} as {app['id']} although the flink CLI's answer was lost: following it" in log
    ), log
    assert wait_until_final(local_yarn, str(app["id"]), timeout=240)["finalStatus"] == "SUCCEEDED"
    print(f"{fault}: the CLI's answer was lost, the application followed, after {time.monotonic() - started:.0f}s")


def test_a_cli_that_hangs_before_submitting_says_yarn_has_no_application(
    local_yarn: LocalYarnCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = lossy_target(local_yarn, tmp_path, "never-sent", 2.0, monkeypatch)
    target.lost_answer_grace = 3.0
    request = make_request(slow_sql(10, 20), "yarn.lost-answer.never-sent")
    with pytest.raises(SubmissionAnswerLost) as raised:
        target.submit(request)
    message = str(raised.value)
    assert message.startswith(
        f"the flink CLI's answer was lost and YARN has no application tagged flinkbatch-job-{request.job_id} "
        f"(looked for 3s): {tmp_path / 'flink'} did not finish within 2s (raise cli_timeout in the connection); "
        "last output: "
    ), message
    assert message.endswith(
        "Nothing runs for this try; the next try looks for the application again before submitting"
    ), message
    assert tagged(local_yarn, request.job_id) == []
