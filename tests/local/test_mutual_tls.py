"""Flink REST with mutual TLS (``security.ssl.rest.*``) on a real local cluster with generated certificates.

The whole path runs over TLS with a client certificate: connection test, runner jar upload, job
submission, blocking status polls and the async trigger. Without the client certificate Flink
refuses the handshake and the error says it is a TLS problem.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from conftest import make_request

from airflow_provider_flinkbatch.local import LocalCluster
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkTlsError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.runner import RunnerJar
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

pytestmark = pytest.mark.integration

QUICK_SQL = "CREATE TEMPORARY TABLE sink (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO sink VALUES (1), (2);"


def test_mutual_tls_end_to_end(tmp_path: Path, runner_jar: RunnerJar, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = LocalCluster(tmp_path / "cluster", tls=True)
    info = cluster.up(timeout=180)
    try:
        assert info.rest_url.startswith("https://")
        monkeypatch.setenv("AIRFLOW_CONN_FLINK_MTLS", info.connection_uri_json())
        hook = FlinkRestHook("flink_mtls")
        ok, message = hook.test_connection()
        assert ok, message

        target = SessionTarget(hook.client, "flink_mtls")
        handle = target.submit(make_request(QUICK_SQL, "mtls.quick"))  # jar upload + run over mutual TLS
        trigger = FlinkJobTrigger(handle.job_id, "flink_mtls", poll_interval=0.3)

        async def first_event() -> dict[str, object]:
            async for event in trigger.run():
                return dict(event.payload)
            raise AssertionError("no event")

        event = asyncio.run(asyncio.wait_for(first_event(), 120))
        assert (event["status"], event["state"]) == ("terminal", "FINISHED")

        # the same CA but no client certificate: Flink refuses, and the error names TLS
        extra = json.loads(info.connection_uri_json())["extra"]
        no_cert = FlinkConnectionSettings(rest_url=info.rest_url, verify=extra["ca_path"])
        with pytest.raises(FlinkTlsError, match=r"TLS handshake with https://127\.0\.0\.1:\d+/overview failed"):
            FlinkRestClient(no_cert, RetryPolicy(budget=1)).call(calls.cluster_overview())
    finally:
        cluster.down()
