"""FlinkJobSensor waits for a job submitted elsewhere, in both modes, and reports how it ended."""

from __future__ import annotations

import pytest
from conftest import RunDag, make_request, slow_sql, xcom_value

from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobHandle

pytestmark = pytest.mark.integration


def submit(conn_id: str, name: str) -> tuple[SessionTarget, JobHandle]:
    target = SessionTarget(FlinkRestHook(conn_id).client, conn_id)
    request = make_request(slow_sql(40), name)
    return target, target.submit(request)


def test_waits_until_the_job_finishes(run_dag: RunDag, flink_conn: str) -> None:
    _, handle = submit(flink_conn, "it.sensor.finishes")  # runs ~2 s
    dag_run, tis = run_dag("it_sensor", job_id=handle.job_id)

    assert {task: ti.state for task, ti in tis.items()} == {"deferrable": "success", "poking": "success"}
    for task in ("deferrable", "poking"):
        summary = xcom_value(dag_run, task)
        assert summary["job_id"] == handle.job_id and summary["state"] == "FINISHED"


def test_fails_when_the_job_did_not_finish(run_dag: RunDag, flink_conn: str, capfd: pytest.CaptureFixture[str]) -> None:
    target, handle = submit(flink_conn, "it.sensor.cancelled")
    target.cancel(handle)
    _, tis = run_dag("it_sensor", job_id=handle.job_id)

    assert {task: ti.state for task, ti in tis.items()} == {"deferrable": "failed", "poking": "failed"}
    assert target.job_details(handle)["state"] == "CANCELED"
    log = capfd.readouterr().out
    assert log.count(f"AirflowFailException: Flink job {handle.job_id} CANCELED [cancelled]") >= 2  # no retries


def test_a_job_id_flink_never_saw_fails_with_a_clear_message(
    run_dag: RunDag, flink_conn: str, capfd: pytest.CaptureFixture[str]
) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    _, tis = run_dag("it_sensor", job_id=unknown)

    assert {task: ti.state for task, ti in tis.items()} == {"deferrable": "failed", "poking": "failed"}
    log = capfd.readouterr().out
    # every source was asked, and the message lists them
    assert log.count(f"Flink job {unknown} is not known to any source; tried: jobmanager") >= 2
    assert "historyserver (http://127.0.0.1:" in log and "archive (file://" in log
