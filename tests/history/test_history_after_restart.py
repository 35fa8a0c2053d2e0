"""A session cluster restarted after a failed job: the JobManager forgot it, the HistoryServer did not.

The trigger, the target (status and exceptions), the diagnosis and the reattach lookup must all get
the real final state and root cause from the HistoryServer instead of reporting the job as unknown.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import make_request

from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook
from airflow_provider_flinkbatch.local import LocalCluster
from airflow_provider_flinkbatch.reattach import decide
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError
from airflow_provider_flinkbatch.runner import RunnerJar
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

pytestmark = pytest.mark.integration

CONN = "flink_restarted"


def test_final_state_and_root_cause_survive_a_cluster_restart(
    tmp_path: Path, runner_jar: RunnerJar, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "amounts.csv").write_text("1,12\n2,twelve\n")
    sql = f"""
CREATE TEMPORARY TABLE src (id BIGINT, amount STRING)
  WITH ('connector' = 'filesystem', 'path' = '{tmp_path / "amounts.csv"}', 'format' = 'csv');
CREATE TEMPORARY TABLE sink (id BIGINT, amount INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id, CAST(amount AS INT) FROM src;
"""
    cluster = LocalCluster(tmp_path / "cluster")
    info = cluster.up(timeout=180)
    try:
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", info.connection_uri_json())
        history = FlinkHistoryServerHook(CONN)
        target = SessionTarget(FlinkRestHook(CONN).client, CONN, history=history.history_server)
        request = make_request(sql, "restart.bad_cast")
        handle = target.submit(request)
        deadline = time.monotonic() + 60
        while history.history_server is not None and history.history_server.get(f"/jobs/{handle.job_id}") is None:
            assert time.monotonic() < deadline, "job never reached the HistoryServer"
            time.sleep(0.3)

        cluster.down()
        restarted = cluster.up(timeout=180)
        assert restarted.rest_url == info.rest_url  # same ports: the connection stays valid
        with pytest.raises(FlinkNotFoundError):
            target.client.call(calls.job_details(handle.job_id))  # the new JobManager never heard of it

        event = asyncio.run(_first_event(FlinkJobTrigger(handle.job_id, CONN, poll_interval=0.3)))
        assert (event["status"], event["state"], event["source"]) == ("terminal", "FAILED", "historyserver")

        assert target.job_details(handle)["state"] == "FAILED"
        diagnosis = FlinkHistoryServerHook(CONN).diagnose(handle.job_id)
        assert diagnosis.source == "historyserver"
        assert diagnosis.exception_class == "java.lang.NumberFormatException"
        assert diagnosis.category == "user_data_error"
        assert any("jobmanager" in tried and "not found" in tried for tried in diagnosis.sources_tried)

        # a re-run of the task instance sees attempt 0 FAILED (from the HistoryServer) and uses attempt 1's
        # id: reusing attempt 0's id would run again but never be archived (the archive file exists)
        existing = target.find_existing(request.identity)
        assert [(job.attempt, job.state) for job in existing] == [(0, "FAILED")]
        decision = decide(existing, request.identity.fingerprint)
        assert (decision.action, decision.attempt) == ("submit", 1)
    finally:
        cluster.down()


async def _first_event(trigger: FlinkJobTrigger) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return await asyncio.wait_for(first(), 60)
