"""Fixtures for the YARN target: an emulated ResourceManager over the real local Flink cluster,
a fake ``flink`` CLI that deploys to it, and a ``flink_yarn`` connection pointing at both."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from yarn_rm_emulator import RmEmulator, write_fake_flink

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.runner import RunnerJar

YARN_CONN_ID = "flink_yarn_default"


@pytest.fixture
def rm() -> Iterator[RmEmulator]:
    """An RM without Flink behind it (protocol tests)."""
    emulator = RmEmulator()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def yarn_rm(flink_cluster: LocalClusterInfo) -> Iterator[RmEmulator]:
    """An RM whose applications run on the real local Flink session cluster."""
    emulator = RmEmulator(flink_cluster.rest_url)
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def fake_flink_home(tmp_path: Path, yarn_rm: RmEmulator) -> Path:
    home = tmp_path / "flink-home"
    write_fake_flink(home, yarn_rm.url, tmp_path / "flink-cli-calls.jsonl")
    return home


@pytest.fixture
def cli_record(tmp_path: Path, fake_flink_home: Path) -> Path:
    return tmp_path / "flink-cli-calls.jsonl"


def yarn_connection(rm_urls: list[str], **extra: Any) -> str:
    return json.dumps({"conn_type": "flink_yarn", "host": ",".join(rm_urls), "login": "airflow", "extra": extra})


@pytest.fixture
def yarn_conn(
    monkeypatch: pytest.MonkeyPatch,
    yarn_rm: RmEmulator,
    fake_flink_home: Path,
    flink_cluster: LocalClusterInfo,
    runner_jar: RunnerJar,
    tmp_path: Path,
) -> str:
    """``flink_yarn_default``: the emulated RM, the fake CLI as FLINK_HOME, the real HistoryServer."""
    (tmp_path / "hadoop-conf").mkdir()
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{YARN_CONN_ID.upper()}",
        yarn_connection(
            [yarn_rm.url],
            flink_home=str(fake_flink_home),
            hadoop_conf_dir=str(tmp_path / "hadoop-conf"),
            hadoop_classpath="/opt/hadoop/share/hadoop/yarn/*",
            history_server_url=flink_cluster.history_url,
            history_grace=4,  # the local HistoryServer refreshes every second
            runner_jar=str(runner_jar.path),
            flink_config={"jobmanager.archive.fs.dir": Path(flink_cluster.archive_dir).as_uri()},
        ),
    )
    return YARN_CONN_ID
