"""The "Flink job" view of ``target="kubernetes"`` tasks on the real kube-apiserver (operator emulated, Flink real).

The view must ask the JobManager the target uses (``rest_url_template``), not the ``flink_batch`` connection's
host (here a dead port: only its HistoryServer and archives are real), link the Flink UI there with the running
route while the job runs, and show a FlinkSessionJob under the id Flink runs it with (the operator's choice),
its attempts found by identity parameters. Facts from the ``flink_job`` XCom the target writes.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from conftest import CONN_ID, slow_sql
from k8s.apiserver import ApiServer
from k8s.test_target import WAIT, resource_of, wait_for_event

from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.links.flink import job_info
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.plugins.facts import FlinkJobView, TaskInstanceRef, job_view
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest

pytestmark = pytest.mark.integration
DEAD = "http://127.0.0.1:9"


@pytest.fixture
def dead_connection_host(flink_conn: str, flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flink_batch connection's own JobManager is unreachable; its HistoryServer and archives are real."""
    conn = json.loads(flink_cluster.connection_uri_json())
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps({**conn, "host": DEAD}))


def task_and_request(name: str, rows: int) -> tuple[TaskInstanceRef, JobRequest]:
    task = TaskInstanceRef(dag_id="k8s_view", run_id=uuid.uuid4().hex, task_id=name, try_number=1)
    identity = JobIdentity(dag_id=task.dag_id, task_id=task.task_id, run_id=task.run_id, fingerprint="c" * 16)
    sql = split_statements(slow_sql(rows))
    return task, JobRequest(statements=sql, flink_config={}, job_name=f"k8s.view.{name}", identity=identity)


def wait_for(view: Callable[[], FlinkJobView], check: Callable[[FlinkJobView], bool], what: str) -> FlinkJobView:
    deadline = time.monotonic() + 120
    while True:
        found = view()
        if check(found):
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last view: {found.model_dump()}"
        time.sleep(0.5)


def test_view_of_a_flinkdeployment_asks_the_rest_url_template_jobmanager(
    make_target: Callable[..., Any], dead_connection_host: None, flink_cluster: LocalClusterInfo
) -> None:
    target = make_target(ui_url_template=None)
    task, request = task_and_request("deployment", 200)
    handle = attach_or_submit(target, request).handle

    def view(finished: bool = False) -> FlinkJobView:
        return job_view(task, {"flink_job": job_info(target, handle, finished=finished)})

    running = wait_for(view, lambda v: v.state == "RUNNING", "the job to run")
    assert running.source == "jobmanager"
    assert running.sources_tried == [f"jobmanager ({flink_cluster.rest_url}): found"]  # never the dead host
    # Without ui_url_template the Flink UI link opens the same JobManager, on the running route.
    assert running.links["Flink UI"] == f"{flink_cluster.rest_url}/#/job/running/{handle.job_id}/overview"
    assert [(a.attempt, a.job_id, a.fingerprint) for a in running.attempts] == [
        (0, handle.job_id, request.identity.fingerprint)
    ]

    event = wait_for_event(target.trigger(handle, WAIT))
    assert event["state"] == "FINISHED"
    done = view(finished=True)
    assert (done.state, done.source) == ("FINISHED", "jobmanager")
    assert done.links["Flink UI"] == f"{flink_cluster.rest_url}/#/job/completed/{handle.job_id}/overview"
    assert DEAD not in done.model_dump_json()
    print(f"\nK8s view (FlinkDeployment {handle.ref}): {done.sources_tried}; {done.links}")


def test_view_of_a_flinksessionjob_shows_the_job_under_flinks_id(
    make_target: Callable[..., Any], session_cluster: str, kube_api: ApiServer, flink_cluster: LocalClusterInfo
) -> None:
    target = make_target(mode="session", session_deployment=session_cluster, image=None)
    task, request = task_and_request("session", 10)
    handle = attach_or_submit(target, request).handle
    event = wait_for_event(target.trigger(handle, WAIT))
    assert event["state"] == "FINISHED"
    stored = resource_of(kube_api, handle, "flinksessionjobs")
    assert stored is not None
    flink_job_id = stored["status"]["jobStatus"]["jobId"]
    assert flink_job_id != handle.job_id  # the operator chose it

    view = job_view(task, {"flink_job": job_info(target, handle, finished=True)})

    assert (view.job_id, view.flink_job_id, view.state, view.source) == (
        handle.job_id,
        flink_job_id,
        "FINISHED",
        "jobmanager",
    )
    assert view.links["Flink UI"].startswith(f"{flink_cluster.rest_url}/?deployment=")
    assert view.links["Flink UI"].endswith(f"/#/job/completed/{flink_job_id}/overview")
    assert view.links["HistoryServer"] == f"{flink_cluster.history_url}/#/job/completed/{flink_job_id}/overview"
    # Found by the identity parameters the job carries: attempt 0 under the provider's id, with its fingerprint.
    assert [(a.attempt, a.job_id, a.state, a.fingerprint) for a in view.attempts] == [
        (0, handle.job_id, "FINISHED", request.identity.fingerprint)
    ]
    target.after_terminal(handle, "FINISHED")
