"""The "Flink job" view of a ``target="yarn"`` task on the REAL local YARN cluster (MiniYARNCluster + HistoryServer).

While the application runs, the view must ask the job's own JobManager through the ResourceManager's web proxy
(the tracking URL YARN reports) and link to the Flink UI's running route there; once YARN has ended the
application, the HistoryServer answers and the links take the completed route. The facts are built from the
``flink_job`` XCom the YARN target writes (no ``flink_batch`` connection exists here: the view must not need one).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
from conftest import slow_sql
from real_yarn import app, wait_until_final

from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.links.flink import job_info
from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.plugins.facts import FlinkJobView, TaskInstanceRef, job_view
from airflow_provider_flinkbatch.plugins.render import render_task
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest
from airflow_provider_flinkbatch.targets.registry import create_target

pytestmark = pytest.mark.integration


def wait_for(view: Any, check: Any, what: str, timeout: float = 240) -> FlinkJobView:
    deadline = time.monotonic() + timeout
    while True:
        found = view()
        if check(found):
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}; last view: {found.model_dump()}"
        time.sleep(1.0)


def test_view_of_a_yarn_task_asks_the_jobmanager_through_the_proxy_then_the_historyserver(
    yarn_cluster_conn: str, local_yarn: LocalYarnCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", raising=False)
    info_of_cluster = local_yarn.info()
    assert info_of_cluster is not None
    task = TaskInstanceRef(dag_id="yarn_view", run_id=uuid.uuid4().hex, task_id="slow", try_number=1)
    identity = JobIdentity(dag_id=task.dag_id, task_id=task.task_id, run_id=task.run_id, fingerprint="b" * 16)
    request = JobRequest(
        statements=split_statements(slow_sql(400)), flink_config={}, job_name="yarn.view.slow", identity=identity
    )
    target = create_target("yarn", yarn_cluster_conn, {}, RetryPolicy(budget=30))
    handle = target.submit(request)
    assert handle.ref and handle.job_id == identity.job_id(0)

    def view(finished: bool = False) -> FlinkJobView:
        # what the operator pushes before it defers / when it finishes
        return job_view(task, {"flink_job": job_info(target, handle, finished=finished)})

    running = wait_for(view, lambda v: v.state == "RUNNING", "the job to run")
    found = app(local_yarn, handle.ref)
    proxy = str(found["trackingUrl"]).rstrip("/")
    assert "/proxy/" in proxy and found["state"] == "RUNNING"
    assert running.source == "jobmanager", running.sources_tried
    assert running.sources_tried[0] == f"jobmanager ({proxy}): found"
    assert running.links["Flink UI"] == f"{proxy}/#/job/running/{handle.job_id}/overview"
    assert running.links["HistoryServer"] == f"{info_of_cluster.history_url}/#/job/completed/{handle.job_id}/overview"
    assert running.name == "yarn.view.slow" and running.vertices
    # the running job's own JobManager lists this task instance's attempt, with the fingerprint it was submitted with
    assert [(a.attempt, a.job_id, a.fingerprint, a.source) for a in running.attempts] == [
        (0, handle.job_id, identity.fingerprint, "jobmanager")
    ]
    assert "running" in render_task(running)
    # The dashboard behind that link knows the job under the same id (Flink's own answer through the proxy).
    assert requests.get(f"{proxy}/jobs/{handle.job_id}", timeout=10).json()["state"] == "RUNNING"

    ended = wait_until_final(local_yarn, handle.ref, timeout=240)
    assert (ended["state"], ended["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    # (the HistoryServer serves /jobs/<id> of a new archive a moment before its /jobs/overview lists the job)
    done = wait_for(
        lambda: view(finished=True), lambda v: v.source == "historyserver" and v.attempts, "the archive", timeout=120
    )
    assert done.state == "FINISHED" and done.duration_ms and done.duration_ms > 0
    assert not any(tried.startswith("jobmanager") for tried in done.sources_tried)  # YARN said it is over
    assert done.links["Flink UI"] == f"{proxy}/#/job/completed/{handle.job_id}/overview"
    assert [(a.attempt, a.state, a.source) for a in done.attempts] == [(0, "FINISHED", "historyserver")]
    assert not done.notes, done.notes
    print(
        f"\nYARN view: {handle.ref} job {handle.job_id}: running via {running.sources_tried[0]}; "
        f"finished via {done.sources_tried}; links {done.links}"
    )
