"""``FlinkBatchSqlOperator(target="yarn")`` on a REAL YARN cluster (MiniYARNCluster, see ``flinkbatch local yarn``).

The real Flink 2.3 CLI deploys ``yarn-application`` clusters: JobManager and TaskManagers run in YARN
containers started by real NodeManagers, the SQL runner jar is shipped with the application, and
tracking goes through the real ResourceManager REST API and web proxy. Expected states, tags, queues
and diagnostics are YARN's and Flink's own answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import RunDag, dag_runner, read_output, xcom_value
from real_yarn import StateRecorder, app

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster

pytestmark = pytest.mark.integration
CONN_ID = "flink_yarn_default"


@pytest.fixture
def yarn_cluster_conn(local_yarn: LocalYarnCluster, monkeypatch: pytest.MonkeyPatch) -> str:
    """``flink_yarn_default`` exactly as ``flinkbatch local yarn up --print-connection`` prints it."""
    info = local_yarn.info()
    assert info is not None
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", info.connection_uri_json())
    return CONN_ID


@pytest.fixture
def run_yarn_dag(airflow_db: None, yarn_cluster_conn: str, data_dir: Path) -> RunDag:
    return dag_runner(data_dir)


@pytest.fixture
def recorder(local_yarn: LocalYarnCluster) -> Iterator[StateRecorder]:
    with StateRecorder(local_yarn) as watching:
        yield watching


def app_of(dag_run: Any, task_id: str, cluster: LocalYarnCluster) -> dict[str, Any]:
    ref = xcom_value(dag_run, task_id, "flink_job")["ref"]
    return app(cluster, ref)


def test_deferrable_and_blocking_tasks_run_as_real_yarn_applications(
    run_yarn_dag: RunDag,
    local_yarn: LocalYarnCluster,
    recorder: StateRecorder,
    orders: Path,
    data_dir: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag_run, tis = run_yarn_dag("yarn_cluster_totals")

    assert {task: ti.state for task, ti in tis.items()} == {"deferrable": "success", "blocking": "success"}
    info = local_yarn.info()
    assert info is not None
    for task in ("deferrable", "blocking"):
        assert read_output(data_dir / f"out_{task}") == ["DE,2", "FR,1", "US,2"]
        summary = xcom_value(dag_run, task)
        found = app_of(dag_run, task, local_yarn)
        job_id = summary["job_id"]
        assert (found["state"], found["finalStatus"], found["name"]) == ("FINISHED", "SUCCEEDED", f"yarn.cluster.{task}")
        assert f"flinkbatch-job-{job_id}" in found["applicationTags"].split(",")
        states = recorder.seen[found["id"]]
        with capfd.disabled():
            print(f"\n{task}: {found['id']} queue {found['queue']} RM states {' -> '.join(states)}")
        assert states[-1] == "FINISHED/SUCCEEDED" and "RUNNING/UNDEFINED" in states
        # While it ran, Flink's own REST API answered through the RM web proxy (the tracking URL).
        assert recorder.proxied[found["id"]]["jid"] == job_id
        # Links: the RM application page, the HistoryServer's job page.
        # (MiniYARNCluster serves no RM HTML pages: its NodeManagers' web apps take over the one Guice
        # filter of the JVM. The RM's own proxy names the page it sends users to once the app ended.)
        yarn_link = xcom_value(dag_run, task, "_link_YarnApplicationLink")
        assert yarn_link == f"{info.rm_url}/cluster/app/{found['id']}"
        moved = requests.get(found["trackingUrl"], timeout=10, allow_redirects=False).text
        assert f"/cluster/app/{found['id']}\"" in moved
        history_link = xcom_value(dag_run, task, "_link_FlinkHistoryServerLink")
        assert history_link == f"{info.history_url}/#/job/completed/{job_id}/overview"
        archived = requests.get(f"{info.history_url}/jobs/{job_id}", timeout=10).json()
        assert archived["state"] == "FINISHED"
    deferrable = app_of(dag_run, "deferrable", local_yarn)
    assert deferrable["queue"] == "root.etl" and "team-sales" in deferrable["applicationTags"].split(",")
