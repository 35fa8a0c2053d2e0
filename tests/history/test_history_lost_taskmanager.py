"""A TaskManager killed mid-job: the diagnosis says resource_lost, retryable (a real failure, not a sample)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from conftest import make_request, slow_sql

from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook
from airflow_provider_flinkbatch.local import LocalCluster
from airflow_provider_flinkbatch.runner import RunnerJar
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget

pytestmark = pytest.mark.integration


def test_lost_taskmanager_is_retryable(tmp_path: Path, runner_jar: RunnerJar, monkeypatch: pytest.MonkeyPatch) -> None:
    # its own cluster (this test kills the TaskManager), noticing a dead TaskManager within seconds
    cluster = LocalCluster(
        tmp_path / "cluster",
        extra_config={"heartbeat.interval": "1000", "heartbeat.timeout": "5000", "slot.request.timeout": "10000"},
    )
    info = cluster.up(timeout=180)
    try:
        monkeypatch.setenv("AIRFLOW_CONN_FLINK_TM_KILL", info.connection_uri_json())
        target = SessionTarget(FlinkRestHook("flink_tm_kill").client, "flink_tm_kill")
        handle = target.submit(make_request(slow_sql(100_000, rows_per_second=50), "diag.lost_tm"))
        deadline = time.monotonic() + 60
        while {v["status"] for v in target.job_details(handle).get("vertices", [])} != {"RUNNING"}:
            assert time.monotonic() < deadline  # tasks deployed and running on the TaskManager
            time.sleep(0.3)
        os.killpg(info.pids["taskmanager"], signal.SIGKILL)
        while target.job_details(handle)["state"] not in ("FAILED", "CANCELED", "FINISHED"):
            assert time.monotonic() < deadline + 120, "the JobManager never noticed the lost TaskManager"
            time.sleep(0.5)

        diagnosis = FlinkHistoryServerHook("flink_tm_kill").diagnose(handle.job_id)
        assert diagnosis.state == "FAILED"
        assert diagnosis.category == "resource_lost" and diagnosis.retryable is True
        # Flink reports the TaskManager as unreachable (or an RPC to it timing out, or no slot to retry on)
        assert any(text in (diagnosis.message or "") for text in ("no longer reachable", "timed out", "resources"))
    finally:
        cluster.down()
