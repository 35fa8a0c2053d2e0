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
    assert "org.apache.celeborn:celeborn-client-flink-2.0-shaded_2.12" in err and "--jar <client jar>" in err
    assert not (tmp_path / "cluster.json").exists()


def test_with_a_client_jar_but_no_master_it_names_the_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A jar with the factory's class entry: what the check looks for (the real client is not on Maven Central here)
    jar = tmp_path / "celeborn-client.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("org/apache/celeborn/plugin/flink/RemoteShuffleServiceFactory.class", b"")
    endpoint = f"127.0.0.1:{_closed_port()}"
    code = main(
        ["local", "--state-dir", str(tmp_path / "c"), "up", "--preset", "celeborn", "-c", f"{ENDPOINTS}={endpoint}",
         "--jar", str(jar)]
    )  # fmt: skip
    assert code == 1
    assert f"no Celeborn master answers at {endpoint} (celeborn.master.endpoints)" in capsys.readouterr().err
