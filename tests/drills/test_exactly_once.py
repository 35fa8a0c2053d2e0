"""Drills on the real local cluster: a task instance never runs its Flink job twice and never orphans one.

Each drill counts the cluster's jobs by name through ``/jobs/overview`` to prove "exactly one".
Select them with ``-m drill``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import RunDag, flink_jobs_named, make_request, slow_sql, spawn_dag_worker, worker_story, xcom_value

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

pytestmark = [pytest.mark.integration, pytest.mark.drill]

DAGS = Path(__file__).resolve().parents[1] / "dags"


def wait_for_state(rest_url: str, name: str, states: set[str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = flink_jobs_named(rest_url, name)
        if jobs and jobs[0]["state"] in states:
            return jobs[0]
        time.sleep(0.2)
    raise AssertionError(f"no job {name!r} in {states} within {timeout}s: {flink_jobs_named(rest_url, name)}")


def test_worker_killed_mid_run_next_try_reattaches(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    logical_date = datetime(2026, 3, 1, tzinfo=UTC)
    log = data_dir / "worker.log"
    worker = spawn_dag_worker("it_drill_crash", logical_date, {"data_dir": str(data_dir)}, log)
    try:
        try:
            running = wait_for_state(flink_cluster.rest_url, "it.drill.crash", {"RUNNING"}, timeout=240)
        except AssertionError as err:
            raise AssertionError(f"{err}\n{worker_story(worker, log)}") from None
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies without any chance to clean up
        worker.wait()

    # The same task instance runs again (same run_id); its task state store is gone with the old run,
    # so only the deterministic identity can find the job.
    capfd.readouterr()
    dag_run, tis = run_dag("it_drill_crash", logical_date=logical_date)

    assert tis["crash"].state == "success"
    jobs = flink_jobs_named(flink_cluster.rest_url, "it.drill.crash")
    assert [(j["jid"], j["state"]) for j in jobs] == [(running["jid"], "FINISHED")]  # exactly one job ran
    assert xcom_value(dag_run, "crash")["job_id"] == running["jid"]
    assert f"Reattached to Flink job {running['jid']}" in capfd.readouterr().out


def test_trigger_restarted_from_its_serialized_form_follows_the_same_job(
    flink_conn: str, flink_cluster: LocalClusterInfo
) -> None:
    from airflow._shared.module_loading import import_string

    target = SessionTarget(FlinkRestHook(flink_conn).client, flink_conn)
    handle = target.submit(make_request(slow_sql(80), "it.drill.trigger_restart"))
    classpath, kwargs = FlinkJobTrigger(handle.job_id, flink_conn, poll_interval=0.3).serialize()

    async def triggerer_crashes_mid_poll() -> None:
        trigger = import_string(classpath)(**kwargs)
        polling = asyncio.create_task(anext(aiter(trigger.run())))
        await asyncio.sleep(1.5)
        assert not polling.done()
        polling.cancel()  # the triggerer process goes away; on_kill is NOT called on restart

    async def new_triggerer_resumes() -> dict[str, Any]:
        trigger = import_string(classpath)(**kwargs)
        event = await asyncio.wait_for(anext(aiter(trigger.run())), 120)
        return dict(event.payload)

    asyncio.run(triggerer_crashes_mid_poll())
    assert target.job_details(handle)["state"] == "RUNNING"  # the job did not notice
    event = asyncio.run(new_triggerer_resumes())
    assert event["state"] == "FINISHED" and event["job_id"] == handle.job_id
    assert [j["jid"] for j in flink_jobs_named(flink_cluster.rest_url, "it.drill.trigger_restart")] == [handle.job_id]


def test_jobmanager_frozen_for_20s_is_not_a_failure(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3 s request timeout: the frozen JobManager shows up as timeouts, retried with backoff
    monkeypatch.setenv(
        "AIRFLOW_CONN_FLINK_DRILL",
        json.dumps({"conn_type": "flink_batch", "host": flink_cluster.rest_url, "extra": {"timeout": 3}}),
    )
    jm_pid = flink_cluster.pids["jobmanager"]
    outage: dict[str, float] = {}

    def freeze_jobmanager() -> None:
        wait_for_state(flink_cluster.rest_url, "it.drill.outage", {"RUNNING"}, timeout=120)
        time.sleep(1)
        outage["start"] = time.monotonic()
        os.kill(jm_pid, signal.SIGSTOP)  # REST stops answering; TCP connects still succeed
        try:
            time.sleep(20)
        finally:
            os.kill(jm_pid, signal.SIGCONT)
            outage["end"] = time.monotonic()

    freezer = threading.Thread(target=freeze_jobmanager, daemon=True)
    freezer.start()
    _, tis = run_dag("it_drill_outage")
    freezer.join(timeout=60)

    assert outage["end"] - outage["start"] >= 20
    assert tis["outage"].state == "success"
    [job] = flink_jobs_named(flink_cluster.rest_url, "it.drill.outage")
    assert job["state"] == "FINISHED"


def test_rerun_of_a_finished_task_instance_submits_nothing_unless_the_sql_changed(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, capfd: pytest.CaptureFixture[str]
) -> None:
    logical_date = datetime(2026, 3, 2, tzinfo=UTC)
    _, first = run_dag("it_drill_rerun", logical_date=logical_date)
    capfd.readouterr()
    _, second = run_dag("it_drill_rerun", logical_date=logical_date)

    assert first["rerun"].state == second["rerun"].state == "success"
    [job] = flink_jobs_named(flink_cluster.rest_url, "it.drill.rerun")
    assert job["state"] == "FINISHED"
    assert "already FINISHED with this SQL" in capfd.readouterr().out


def test_deferral_timeout_cancels_the_job(flink_conn: str, flink_cluster: LocalClusterInfo) -> None:
    """Airflow resumes a timed-out deferral with ``__fail__`` (and calls no on_kill): the job is cancelled there.

    ``dag.test()`` ignores deferral timeouts, so this drives the operator's resume entry point the way
    the task runner does after the scheduler timed the trigger out.
    """
    from airflow.sdk.bases.operator import TriggerFailureReason
    from airflow.sdk.exceptions import TaskDeferralTimeout

    from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

    target = SessionTarget(FlinkRestHook(flink_conn).client, flink_conn)
    handle = target.submit(make_request(slow_sql(2000), "it.drill.deferral_timeout"))
    wait_for_state(flink_cluster.rest_url, "it.drill.deferral_timeout", {"RUNNING"})

    operator = FlinkBatchSqlOperator(task_id="t", sql="INSERT INTO x SELECT 1", flink_conn_id=flink_conn)
    context: Any = {"task_state_store": {operator.external_id_key: handle.job_id}}
    with pytest.raises(TaskDeferralTimeout):
        operator.resume_execution("__fail__", {"error": TriggerFailureReason.TRIGGER_TIMEOUT}, context)
    assert wait_for_state(flink_cluster.rest_url, "it.drill.deferral_timeout", {"CANCELED"}, timeout=20)
