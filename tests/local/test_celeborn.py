"""The celeborn preset fails fast, before any JVM starts, when the shuffle service cannot work."""

from __future__ import annotations

import socket
import time
import zipfile
from pathlib import Path

import pytest

from airflow_provider_flinkbatch.cli import main

ENDPOINTS = "celeborn.master.endpoints"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_without_the_client_jar_the_cluster_is_not_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = main(["local", "--state-dir", str(tmp_path), "up", "--preset", "celeborn", "-c", f"{ENDPOINTS}=127.0.0.1:9"])
    assert code == 1 and time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert "needs the Celeborn Flink client on the cluster's classpath" in err
    assert "org.apache.celeborn:celeborn-client-flink-2.3-shaded_2.12" in err and "--jar <client jar>" in err
    assert not (tmp_path / "cluster.json").exists()


def _client_jar(folder: Path) -> Path:
    # A jar with the factory's class entry: what the check looks for (the built client: test_celeborn_service.py)
    jar = folder / "celeborn-client.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("org/apache/celeborn/plugin/flink/RemoteShuffleServiceFactory.class", b"")
    return jar


def test_replicated_pushes_are_refused_before_the_jobmanager_would_refuse_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["local", "--state-dir", str(tmp_path / "c"), "up", "--preset", "celeborn", "-c", f"{ENDPOINTS}=127.0.0.1:9",
         "-c", "celeborn.client.push.replicate.enabled=true", "--jar", str(_client_jar(tmp_path))]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "celeborn.client.push.replicate.enabled = true: Celeborn's Flink client does not support" in err
    assert not (tmp_path / "c" / "cluster.json").exists()


def test_with_a_client_jar_but_no_master_it_names_the_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    jar = _client_jar(tmp_path)
    endpoint = f"127.0.0.1:{_closed_port()}"
    code = main(
        ["local", "--state-dir", str(tmp_path / "c"), "up", "--preset", "celeborn", "-c", f"{ENDPOINTS}={endpoint}",
         "--jar", str(jar)]
    )  # fmt: skip
    assert code == 1
    assert f"no Celeborn master answers at {endpoint} (celeborn.master.endpoints)" in capsys.readouterr().err
