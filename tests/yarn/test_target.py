"""YarnTarget called directly (as the operator does) on the REAL local YARN cluster: one real
``flink run -t yarn-application`` submission, observed while it runs and after it ended.

The submission goes through the real Flink CLI whose log lines go to a file (the CLI prints no
application id), so the target finds its application by the job's tag; the trigger that follows it is
rebuilt from its serialized form, as a restarted triggerer does. The end-to-end task paths (deferrable
and blocking, output read back, links, diagnosis, bad input, kill and crash drills) are in
``test_real_cluster.py`` and ``test_real_cluster_drills.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import shlex
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import make_request, slow_sql
from real_yarn import apps_named, wait_for_app, wait_until_final

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkRestError
from airflow_provider_flinkbatch.targets.base import ExistingJob, JobHandle, JobRequest, WaitOptions
from airflow_provider_flinkbatch.targets.registry import create_target
from airflow_provider_flinkbatch.yarn.cli import parse_application_id
from airflow_provider_flinkbatch.yarn.target import YarnTarget

pytestmark = pytest.mark.integration
QUIET_CONN = "flink_yarn_quiet_cli"
NAME = "yarn.target.direct"
WAIT = WaitOptions(poll_interval=0.5, transient_error_budget=30.0)


def yarn_target(conn_id: str, **options: Any) -> YarnTarget:
    target = create_target("yarn", conn_id, options, RetryPolicy(budget=30.0))
    assert isinstance(target, YarnTarget)
    return target


def follow(trigger: Any) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout=300))


def live_details(target: YarnTarget, handle: JobHandle, timeout: float = 120) -> dict[str, Any]:
    """Flink's ``/jobs/<id>`` from the running JobManager (through the RM web proxy) once it has the job."""
    deadline = time.monotonic() + timeout
    details: dict[str, Any] = {}
    while True:
        try:
            details = target.job_details(handle)
            if "yarn" not in details and details.get("vertices"):  # Flink's answer, not one made from YARN's
                return details
        except FlinkRestError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"the JobManager never answered for {handle}: {details}")
        time.sleep(1)


@dataclass
class Direct:
    request: JobRequest
    handle: JobHandle
    cli_output: str
    running: dict[str, Any]  # the RM's record while it ran
    while_running: dict[str, Any]  # what the target said then
    event: dict[str, Any]  # the rebuilt trigger's event
    final: dict[str, Any]  # the RM's record after the end
    after: dict[str, Any]  # what the target said then
    rm_url: str


@pytest.fixture(scope="module")
def direct(local_yarn: LocalYarnCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Direct]:
    info = local_yarn.info()
    assert info is not None
    folder = tmp_path_factory.mktemp("yarn-target")
    output, quiet = folder / "cli-output.txt", folder / "flink"
    # the cluster's real Flink CLI, with its log lines in a file (as a log4j file appender would)
    quiet.write_text(f'#!/bin/sh\nexec {shlex.quote(info.flink_cli)} "$@" > {shlex.quote(str(output))} 2>&1\n')
    quiet.chmod(0o755)
    conn = json.loads(info.connection_uri_json())
    conn["extra"]["flink_cli"] = str(quiet)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(f"AIRFLOW_CONN_{QUIET_CONN.upper()}", json.dumps(conn))
        target = yarn_target(QUIET_CONN, queue="etl", tags=["Team-Direct"])
        request = make_request(slow_sql(400, 20), NAME, **{"parallelism.default": "1"})

        handle = target.submit(request)

        running = wait_for_app(local_yarn, NAME, {"RUNNING"})
        found_again = target.handle_for(request.job_id)
        while_running = {
            "found_again": found_again,
            "existing": target.find_existing(request.identity),
            "details": live_details(target, found_again),
            "links": target.link_info(handle),
        }
        classpath, kwargs = target.trigger(handle, WAIT).serialize()
        module, _, name = classpath.rpartition(".")
        rebuilt = getattr(importlib.import_module(module), name)(**kwargs)  # what a restarted triggerer does
        event = follow(rebuilt)
        final = wait_until_final(local_yarn, str(handle.ref))
        after = {
            "existing": target.find_existing(request.identity),
            "details": target.job_details(target.handle_for(request.job_id)),
        }
        yield Direct(request, handle, output.read_text(), running, while_running, event, final, after, info.rm_url)


def test_submission_without_an_id_in_the_cli_output_finds_its_application_by_tag(
    direct: Direct, local_yarn: LocalYarnCluster
) -> None:
    [app] = apps_named(local_yarn, NAME)  # the RM's own list: one application for the one submission
    assert direct.handle.ref == app["id"] and direct.handle.job_id == direct.request.job_id
    assert parse_application_id(direct.cli_output) in (None, app["id"])  # the file has what the console lacked
    assert (app["queue"], app["applicationType"]) == ("root.etl", "Apache Flink")
    tags = app["applicationTags"].split(",")
    assert f"flinkbatch-job-{direct.request.job_id}" in tags and "team-direct" in tags  # YARN lower-cases tags
    assert f"flinkbatch-id-{direct.request.identity.key}" in tags


def test_while_it_runs_the_target_finds_it_and_reads_flink_through_the_proxy(direct: Direct) -> None:
    seen = direct.while_running
    assert seen["found_again"].ref == direct.handle.ref
    fingerprint = direct.request.identity.fingerprint
    assert seen["existing"] == [
        ExistingJob(handle=seen["found_again"], attempt=0, state="RUNNING", fingerprint=fingerprint)
    ]
    details = seen["details"]  # Flink's own JSON, from the JobManager in its YARN container
    assert (details["jid"], details["name"]) == (direct.request.job_id, NAME)
    assert details["state"] in ("CREATED", "INITIALIZING", "RUNNING")
    links = seen["links"]
    assert links["yarn_app_url"] == f"{direct.rm_url}/cluster/app/{direct.handle.ref}"
    assert links["web_ui_url"] == direct.running["trackingUrl"].rstrip("/")
    assert f"/proxy/{direct.handle.ref}" in links["web_ui_url"]


def test_a_rebuilt_trigger_follows_the_application_to_flinks_end(direct: Direct) -> None:
    event, final = direct.event, direct.final
    assert (event["status"], event["job_id"], event["application_id"]) == (
        "terminal",
        direct.request.job_id,
        direct.handle.ref,
    )
    assert event["state"] == "FINISHED" and event["source"] in ("jobmanager", "historyserver")
    summary = event["summary"]  # Flink's job details, not YARN's
    assert summary["name"] == NAME and summary["vertices_total"] == summary["vertices_finished"] >= 1
    assert (final["state"], final["finalStatus"]) == ("FINISHED", "SUCCEEDED")


def test_after_the_end_the_archive_answers_and_the_attempt_is_found(direct: Direct) -> None:
    after = direct.after
    assert (after["details"]["jid"], after["details"]["state"]) == (direct.request.job_id, "FINISHED")
    assert "yarn" not in after["details"]  # the HistoryServer's archive, not an answer made from YARN's record
    assert [(e.attempt, e.state, e.fingerprint, e.handle.ref) for e in after["existing"]] == [
        (0, "FINISHED", direct.request.identity.fingerprint, direct.handle.ref)
    ]


def test_an_unknown_job_has_no_application(yarn_cluster_conn: str) -> None:
    target = yarn_target(yarn_cluster_conn)
    handle = target.handle_for("f" * 32)
    assert handle == JobHandle(target="yarn", conn_id=yarn_cluster_conn, job_id="f" * 32, ref=None)
    with pytest.raises(FlinkNotFoundError, match="no YARN application carries tag flinkbatch-job-f"):
        target.job_details(handle)
