"""A lost answer to a submission (issue 20, item 4), on the real local Flink behind a proxy that loses it.

The proxy forwards ``POST /jars/<id>/run`` to Flink and then drops the connection, or answers later than the
connection's timeout, or never forwards it at all. The job id is known before submitting, so the provider
looks the job up: it follows a job Flink has, and says clearly when Flink has none. Never a false failure
while the job runs unsupervised, never a second job.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
import requests
from conftest import RunDag, flink_jobs_named, make_request, slow_sql
from counting_proxy import CountingProxy

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import SubmissionAnswerLost

pytestmark = pytest.mark.integration

#: The connection's timeout: longer than planning a job on a cold cluster, so "drop" is the dropped connection
#: (not a timeout); a "delay" answer comes after it.
TIMEOUT = 15.0


class Lossy:
    """A proxy in front of the real cluster and a session target that talks through it."""

    def __init__(self, flink: LocalClusterInfo) -> None:
        self.fault: str | None = None
        self.proxy = CountingProxy(flink.rest_url, lose=self._lose).start()
        settings = FlinkConnectionSettings(rest_url=self.proxy.url, timeout=TIMEOUT)
        self.target = SessionTarget(FlinkRestClient(settings, RetryPolicy(budget=15)), "lossy")

    def _lose(self, method: str, path: str) -> str | None:
        return self.fault if method == "POST" and path.endswith("/run") else None


@pytest.fixture
def lossy(flink_cluster: LocalClusterInfo) -> Iterator[Lossy]:
    lossy = Lossy(flink_cluster)
    lossy.target.runner_jar_id()  # the jar upload is not what is tested
    yield lossy
    lossy.proxy.stop()


def final_state(rest_url: str, job_id: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = str(requests.get(f"{rest_url}/jobs/{job_id}", timeout=10).json()["state"])
        if state in ("FINISHED", "FAILED", "CANCELED"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still running after {timeout}s")


@pytest.mark.parametrize("fault", ["drop", f"delay:{TIMEOUT + 4}"])
def test_a_lost_answer_to_a_submission_that_reached_flink_is_followed_not_failed(
    lossy: Lossy,
    flink_cluster: LocalClusterInfo,
    fault: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = f"it.lost-answer.{fault.split(':')[0]}"
    request = make_request(slow_sql(rows=60), name)
    lossy.fault = fault
    with caplog.at_level(logging.WARNING):
        outcome = attach_or_submit(lossy.target, request)
    assert lossy.proxy.lost == 1
    assert outcome.handle.job_id == request.job_id
    # the first test in a process logs through Airflow's handler (stdout), later ones through pytest's
    log = capfd.readouterr().out + "\n".join(record.getMessage() for record in caplog.records)
    lost = "closed before an answer came" if fault == "drop" else f"within {TIMEOUT:g}s"
    assert f"No answer to the submission of Flink job {request.job_id} (" in log and lost in log, log
    assert f"Flink has job {request.job_id} although the submission's answer was lost: following it" in log, log
    # Flink itself (not through the proxy) has exactly this one job, and it runs to the end.
    assert [job["jid"] for job in flink_jobs_named(flink_cluster.rest_url, name)] == [request.job_id]
    assert final_state(flink_cluster.rest_url, request.job_id) == "FINISHED"
    # the next try (say the worker died right after) finds it and submits nothing
    lossy.fault = None
    again = attach_or_submit(lossy.target, request)
    assert again.action == "finished" and again.handle.job_id == request.job_id
    assert len(flink_jobs_named(flink_cluster.rest_url, name)) == 1


def test_a_submission_that_never_reached_flink_says_flink_has_no_job(
    lossy: Lossy, flink_cluster: LocalClusterInfo
) -> None:
    name = "it.lost-answer.swallowed"
    request = make_request(slow_sql(rows=20), name)
    lossy.fault = "swallow"
    lossy.target.lost_answer_grace = 3.0
    with pytest.raises(SubmissionAnswerLost) as err:
        attach_or_submit(lossy.target, request)
    message = str(err.value)
    jar = lossy.target.runner_jar_id()
    assert message.startswith(
        f"the submission's answer was lost and Flink has no job {request.job_id}: the connection to "
        f"{lossy.proxy.url}/jars/{jar}/run closed before an answer came: "
    ), message
    assert message.endswith(
        f"looked it up for 3s (jobmanager ({lossy.proxy.url}): not found). Nothing runs for this try; the next try "
        "looks for the job again before submitting"
    ), message
    assert flink_jobs_named(flink_cluster.rest_url, name) == []
    # the retry submits attempt 0 (nothing ran), once
    lossy.fault = None
    outcome = attach_or_submit(lossy.target, request)
    assert (outcome.action, outcome.attempt, outcome.handle.job_id) == ("submit", 0, request.job_id)
    assert final_state(flink_cluster.rest_url, request.job_id) == "FINISHED"
    assert len(flink_jobs_named(flink_cluster.rest_url, name)) == 1


def test_tasks_whose_submission_answers_are_lost_succeed_with_one_job_each(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = CountingProxy(flink_cluster.rest_url, lose=lambda method, path: "drop" if path.endswith("/run") else None)
    proxy.start()
    try:
        connection = {"conn_type": "flink_batch", "host": proxy.url, "extra": {"timeout": TIMEOUT}}
        monkeypatch.setenv("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", json.dumps(connection))
        _, tis = run_dag("it_lost_answer")
    finally:
        proxy.stop()
    assert proxy.lost == 2
    assert {task: ti.state for task, ti in tis.items()} == {"blocking": "success", "deferrable": "success"}
    for task in ("blocking", "deferrable"):
        [job] = flink_jobs_named(flink_cluster.rest_url, f"it.lost-answer.task.{task}")
        assert job["state"] == "FINISHED"
