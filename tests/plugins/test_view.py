"""The "Flink job" view's facts and HTML against the real local Flink cluster, without a browser.

A job of a task instance (its identity's attempt 0) fails on bad data on the real cluster; the view
built from the task's ``flink_job`` XCom must show Flink's state, the diagnosis, the vertices and the
attempts table, escape what Flink reports, and never carry the connection's secrets.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.plugins.app import map_index_of
from airflow_provider_flinkbatch.plugins.facts import TaskInstanceRef, job_view
from airflow_provider_flinkbatch.plugins.render import render_task
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest

CONN = "flink_view_unit"
SECRET = "view-unit-secret-5b1e"


def test_plugin_module_imports_no_fastapi() -> None:
    """Airflow imports the plugin in every component (the dag-processor too): it must stay light."""
    code = (
        "import sys; import airflow_provider_flinkbatch.plugins.plugin as p; "
        "print(sorted(m for m in ('fastapi', 'airflow_provider_flinkbatch.plugins.app', "
        "'airflow_provider_flinkbatch.history.hook') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_unfilled_map_index_means_unmapped() -> None:
    assert [map_index_of(v) for v in ("{MAP_INDEX}", "", None, "-1", "3")] == [-1, -1, -1, -1, 3]


@pytest.mark.integration
def test_view_of_a_failed_job_shows_the_diagnosis_and_attempts(
    flink_cluster: LocalClusterInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = json.loads(flink_cluster.connection_uri_json())
    conn["password"], conn["login"] = SECRET, "flink"
    conn["extra"]["timeout"] = 120  # /jars/<id>/run plans the SQL in the JobManager: slow on a busy machine
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))
    (tmp_path / "bad.csv").write_text("1,<img src=x>\n2,twelve\n")
    sql = f"""
CREATE TEMPORARY TABLE src (id BIGINT, amount STRING)
  WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "bad.csv"}', 'format' = 'csv');
CREATE TEMPORARY TABLE sink (id BIGINT, amount INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id, CAST(amount AS INT) FROM src;
"""
    task = TaskInstanceRef(dag_id="view_unit", run_id=uuid.uuid4().hex, task_id="bad_cast", try_number=1)
    identity = JobIdentity(dag_id=task.dag_id, task_id=task.task_id, run_id=task.run_id, fingerprint="a" * 16)
    request = JobRequest(
        statements=split_statements(sql), flink_config={}, job_name="view_unit.bad_cast", identity=identity
    )
    target = SessionTarget(FlinkRestHook(CONN).client, CONN)
    handle = target.submit(request)
    assert handle.job_id == identity.job_id(0)
    deadline = time.monotonic() + 60
    while JobState.from_json(target.job_details(handle)).running:
        assert time.monotonic() < deadline, "the job did not end in 60 s"
        time.sleep(0.3)

    xcoms = {"flink_job": {"job_id": handle.job_id, "target": "session", "conn_id": CONN, "finished": True}}
    view = job_view(task, xcoms)
    assert (view.state, view.source, view.name) == ("FAILED", "jobmanager", "view_unit.bad_cast")
    assert view.diagnosis is not None
    assert view.diagnosis.category == "user_data_error" and not view.diagnosis.retryable
    assert view.diagnosis.exception_class == "java.lang.NumberFormatException"
    assert view.diagnosis.task_manager
    assert [(a.attempt, a.job_id, a.state, a.fingerprint, a.latest) for a in view.attempts] == [
        (0, handle.job_id, "FAILED", identity.fingerprint, True)  # read back from the job's config
    ]
    assert view.vertices and any(v.status == "FAILED" for v in view.vertices)

    html = render_task(view)
    assert "java.lang.NumberFormatException" in html and "user_data_error" in html
    # the first row's value fails the CAST; Flink quotes it in the message, which the page escapes
    assert "<img src=x>" in (view.diagnosis.message or "")
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert SECRET not in html and SECRET not in view.model_dump_json()


def test_view_without_a_job_says_so() -> None:
    view = job_view(TaskInstanceRef(dag_id="d", run_id="r", task_id="t"), {"flink_job": {"job_id": None}})
    assert view.job_id is None
    assert "has not submitted a Flink job" in render_task(view)
