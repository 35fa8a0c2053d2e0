"""Fixtures for the YARN target: the ``flink_yarn`` connection of the REAL local YARN cluster
(``local_yarn``, a MiniYARNCluster) and, for RM HA failover only, an emulated RM."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from yarn_rm_emulator import RmEmulator

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster

CONN_ID = "flink_yarn_default"


@pytest.fixture
def rm() -> Iterator[RmEmulator]:
    """emulator: an active RM for the failover tests (a standby is made with ``standby_of``)."""
    emulator = RmEmulator()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def yarn_cluster_conn(local_yarn: LocalYarnCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """``flink_yarn_default`` exactly as ``flinkbatch local yarn up --print-connection`` prints it."""
    info = local_yarn.info()
    assert info is not None
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", info.connection_uri_json())
    return CONN_ID
