"""The local cluster manager and ``flinkbatch local``: free ports, idempotent up, down stops only its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.distribution import FlinkDistributionNotFound, find_flink_distribution
from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterInfo


@pytest.mark.integration
def test_status_of_the_running_cluster(flink_cluster: LocalClusterInfo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--state-dir", flink_cluster.state_dir, "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["running"] is True
    assert status["processes"] == {"jobmanager": True, "taskmanager": True, "historyserver": True}
    assert status["pids"] == flink_cluster.pids
    assert status["taskmanagers"] == 1 and status["rest_url"] == flink_cluster.rest_url


def _plain_shell(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``.venv/bin/flinkbatch ...`` pasted into a fresh shell: no FLINKBATCH_HOME, only the current directory."""
    env = {key: value for key, value in os.environ.items() if key != "FLINKBATCH_HOME"}
    flinkbatch = Path(sys.executable).parent / "flinkbatch"
    return subprocess.run([str(flinkbatch), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.integration
def test_commands_pasted_into_a_plain_shell_act_on_the_projects_cluster(
    flink_cluster: LocalClusterInfo, tmp_path: Path
) -> None:
    """The demo's cluster lives in <project>/.flinkbatch/local-cluster; a shell in the project (or below)
    finds it: status shows its pids and URLs, up --print-connection reuses it (no second cluster)."""
    project = tmp_path / "project"
    (project / ".flinkbatch").mkdir(parents=True)
    (project / ".flinkbatch" / "local-cluster").symlink_to(flink_cluster.state_dir)
    (project / "example_dags").mkdir()

    status = _plain_shell(["local", "status"], cwd=project / "example_dags")
    assert status.returncode == 0, status.stderr
    assert str(project / ".flinkbatch" / "local-cluster") in status.stdout
    for name, pid in flink_cluster.pids.items():
        assert f"{name:<20}: pid {pid} running" in status.stdout
    assert flink_cluster.rest_url in status.stdout and flink_cluster.history_url in status.stdout

    up = _plain_shell(["local", "up", "--print-connection"], cwd=project)
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout)["host"] == flink_cluster.rest_url
    assert LocalCluster(Path(flink_cluster.state_dir)).info() == flink_cluster  # same processes, nothing restarted


def test_state_folder_is_found_from_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_flinkbatch.paths import cache_dir, home_and_reason

    monkeypatch.delenv("FLINKBATCH_HOME", raising=False)
    (tmp_path / ".flinkbatch").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "a" / "b")
    assert home_and_reason()[0] == tmp_path / ".flinkbatch"
    monkeypatch.setenv("FLINKBATCH_HOME", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere" and (tmp_path / "elsewhere").is_dir()


def test_status_and_down_when_nothing_was_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--state-dir", str(tmp_path), "status"]) == 3
    out = capsys.readouterr().out
    assert "not started" in out and "flinkbatch local up" in out
    assert main(["local", "--state-dir", str(tmp_path), "down"]) == 0
    assert "nothing was running" in capsys.readouterr().out


@pytest.mark.integration
def test_second_cluster_gets_its_own_ports_and_down_stops_only_it(
    flink_cluster: LocalClusterInfo, tmp_path: Path
) -> None:
    other = LocalCluster(tmp_path / "other")
    info = other.up(timeout=180)
    try:
        assert info.rest_url != flink_cluster.rest_url and info.history_url != flink_cluster.history_url
        assert other.up().pids == info.pids  # idempotent: the running cluster is reused
        assert requests.get(f"{info.rest_url}/overview", timeout=5).json()["taskmanagers"] == 1
        assert (Path(info.log_dir) / "jobmanager.log").exists()
    finally:
        stopped = other.down()
    assert sorted(stopped) == ["historyserver", "jobmanager", "taskmanager"]
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{info.rest_url}/overview", timeout=5)
    # the session's cluster is untouched
    assert requests.get(f"{flink_cluster.rest_url}/overview", timeout=5).json()["taskmanagers"] == 1


def test_wrong_flink_home_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLINK_HOME", str(tmp_path))
    with pytest.raises(FlinkDistributionNotFound, match="has no lib/ directory"):
        find_flink_distribution()
    assert main(["local", "--state-dir", str(tmp_path / "c"), "up"]) == 1


def test_status_lists_the_connector_jars_it_loaded(
    flink_cluster: LocalClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    """The session cluster of the tests is `flinkbatch local up --with parquet,avro,kafka`."""
    assert main(["local", "--state-dir", flink_cluster.state_dir, "status", "--json"]) == 0
    jars = set(json.loads(capsys.readouterr().out)["jars"])
    assert {
        "flink-sql-parquet-2.3.0.jar",
        "hadoop-client-api-3.4.1.jar",
        "hadoop-client-runtime-3.4.1.jar",
        "flink-sql-avro-2.3.0.jar",
        "flink-sql-connector-kafka-5.0.0-2.2.jar",
    } == jars
    assert main(["local", "--state-dir", flink_cluster.state_dir, "status"]) == 0
    shown = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Connector jars"))
    assert set(shown.split(": ", 1)[1].split(", ")) == jars


def test_up_with_an_unknown_jar_name_says_which_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "--state-dir", str(tmp_path), "up", "--with", "parquet,orc"]) == 1
    assert capsys.readouterr().err.strip() == "flinkbatch: --with orc: unknown jar; choose from parquet, avro, kafka"
