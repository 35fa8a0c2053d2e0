"""``flinkbatch local yarn``: a real MiniYARNCluster, its connection, and the real Flink YARN client against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from conftest import read_output
from real_yarn import app, wait_until_final

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, RunnerJar, runner_program_args
from airflow_provider_flinkbatch.sql.statements import split_statements

pytestmark = pytest.mark.integration


def test_status_reports_the_resourcemanager_and_both_nodemanagers(
    local_yarn: LocalYarnCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["local", "yarn", "--state-dir", str(local_yarn.state_dir), "status"]) == 0
    status = json.loads(capsys.readouterr().out)

    assert status["running"] is True
    assert (status["rm_state"], status["hadoop_version"]) == ("STARTED", "3.5.0")
    assert len(status["nodemanagers"]) == 2
    nodes = {node["nodeHTTPAddress"]: node for node in local_yarn.nodes()}
    assert set(status["nodemanagers"]) == set(nodes)
    assert {node["totalResource"]["memory"] for node in nodes.values()} == {4096}  # MiniYARNCluster's NM size


def test_up_on_a_running_cluster_prints_its_flink_yarn_connection(
    airflow_db: None,  # Airflow (and its logging) set up for the session before this test imports it
    local_yarn: LocalYarnCluster,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from airflow_provider_flinkbatch.yarn.hook import yarn_settings_from_connection

    assert main(["local", "yarn", "--state-dir", str(local_yarn.state_dir), "up", "--print-connection"]) == 0
    connection = json.loads(capsys.readouterr().out)

    info = local_yarn.info()
    assert info is not None
    assert connection["conn_type"] == "flink_yarn" and connection["host"] == info.rm_url

    class Conn:  # what Airflow builds from AIRFLOW_CONN_FLINK_YARN_DEFAULT
        conn_id, conn_type, host, port, schema = "flink_yarn_default", "flink_yarn", connection["host"], None, None
        login, password, extra_dejson = connection["login"], None, connection["extra"]

    settings = yarn_settings_from_connection(Conn())
    assert settings.rm_urls == [info.rm_url] and settings.history_server_url == info.history_url
    cluster_info = requests.get(f"{info.rm_url}/ws/v1/cluster/info", timeout=10).json()["clusterInfo"]
    assert cluster_info["haState"] == "ACTIVE"


def test_status_of_a_cluster_that_never_started_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local", "yarn", "--state-dir", str(tmp_path), "status"]) == 3
    assert json.loads(capsys.readouterr().out)["running"] is False


def test_the_real_flink_cli_deploys_a_yarn_application_that_writes_output(
    local_yarn: LocalYarnCluster, runner_jar: RunnerJar, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """``bin/flink run -t yarn-application`` as a user would type it: the JobManager and the TaskManager
    run in YARN containers, the runner jar travels with the application, the output is real."""
    import subprocess

    from airflow_provider_flinkbatch.yarn.cli import parse_application_id

    info = local_yarn.info()
    assert info is not None
    out = tmp_path / "out"
    sql = f"""
CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '5', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '5');
CREATE TEMPORARY TABLE o (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{out}', 'format' = 'csv');
INSERT INTO o SELECT id * 10 FROM src;
"""
    argv = [info.flink_cli, "run", "-t", "yarn-application", "-d", "-D", "yarn.application.name=cli.check"]
    argv += ["-c", RUNNER_MAIN_CLASS, str(runner_jar.path), *runner_program_args(split_statements(sql))]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    app_id = parse_application_id(result.stdout + result.stderr)
    assert app_id is not None, result.stdout[-3000:]
    final = wait_until_final(local_yarn, app_id, timeout=240)
    with capfd.disabled():
        lines = [line for line in (result.stdout + result.stderr).splitlines() if app_id in line]
        print(f"\nflink run -t yarn-application: {app_id} -> {final['state']}/{final['finalStatus']}")
        for line in lines:
            print(f"  {line.strip()[:200]}")
    assert (final["name"], final["state"], final["finalStatus"]) == ("cli.check", "FINISHED", "SUCCEEDED")
    assert read_output(out) == ["10", "20", "30", "40", "50"]
    assert app(local_yarn, app_id)["amContainerLogs"]  # the JobManager ran in a NodeManager's container
