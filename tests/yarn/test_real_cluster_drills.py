"""Drills on the REAL local YARN cluster: kill -9 of the worker, task kill, execution_timeout, RM restart.

Each drill counts the applications in the ResourceManager (by the DAG's job name) to prove exactly one
application per task attempt, and asks the NodeManagers which containers still run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import RunDag, dag_runner, spawn_dag_worker, worker_story, xcom_value
from real_yarn import apps_named, container_processes, live_containers, wait_for_app, wait_until_final

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster

pytestmark = [pytest.mark.integration, pytest.mark.drill]


@pytest.fixture
def run_yarn_dag(airflow_db: None, yarn_cluster_conn: str, data_dir: Path) -> RunDag:
    return dag_runner(data_dir)


def running_app_of_worker(cluster: LocalYarnCluster, name: str, worker: Any, log: Path) -> dict[str, Any]:
    try:
        return wait_for_app(cluster, name, {"RUNNING"}, timeout=240)
    except AssertionError as err:
        raise AssertionError(f"{err}\n{worker_story(worker, log)}") from None


def no_container_left(cluster: LocalYarnCluster, app_id: str, timeout: float = 60) -> tuple[list[str], list[int]]:
    """What the NodeManagers still run for the application, and its processes, once they settled."""
    deadline = time.monotonic() + timeout
    while True:
        left = live_containers(cluster, app_id), container_processes(cluster, app_id)
        if left == ([], []) or time.monotonic() > deadline:
            return left
        time.sleep(1)


def test_worker_killed_mid_run_next_try_reattaches_one_application(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    log = data_dir / "worker.log"
    worker = spawn_dag_worker("yarn_cluster_crash", when, {"data_dir": str(data_dir), "rows": 600}, log)
    try:
        running = running_app_of_worker(local_yarn, "yarn.cluster.crash", worker, log)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies without any chance to clean up
        worker.wait()

    capfd.readouterr()
    dag_run, tis = run_yarn_dag("yarn_cluster_crash", logical_date=when, rows=600)

    assert tis["slow"].state == "success"
    wait_until_final(local_yarn, running["id"])
    found = apps_named(local_yarn, "yarn.cluster.crash")
    with capfd.disabled():
        print(f"\ncrash drill: {[(a['id'], a['state'], a['finalStatus']) for a in found]} in the RM")
    assert [(a["id"], a["state"], a["finalStatus"]) for a in found] == [(running["id"], "FINISHED", "SUCCEEDED")]
    assert xcom_value(dag_run, "slow", "flink_job")["ref"] == running["id"]
    assert "Reattached to Flink job" in capfd.readouterr().out


def test_task_killed_kills_the_application_and_its_containers(
    local_yarn: LocalYarnCluster, yarn_cluster_conn: str, airflow_db: None, data_dir: Path
) -> None:
    when = datetime(2026, 5, 2, tzinfo=UTC)
    log = data_dir / "worker.log"
    worker = spawn_dag_worker("yarn_cluster_kill", when, {"data_dir": str(data_dir), "rows": 100000}, log)
    try:
        running = running_app_of_worker(local_yarn, "yarn.cluster.kill", worker, log)
        assert live_containers(local_yarn, running["id"])  # the JobManager runs in a NodeManager's container
        os.kill(worker.pid, signal.SIGTERM)  # what Airflow sends a task it kills: the operator's on_kill runs
        worker.wait(timeout=120)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()

    final = wait_until_final(local_yarn, running["id"])
    left = no_container_left(local_yarn, running["id"])
    print(f"\ntask kill: {final['id']} {final['state']}/{final['finalStatus']}, containers left {left}")
    assert (final["state"], final["finalStatus"]) == ("KILLED", "KILLED")
    assert left == ([], [])
    assert len(apps_named(local_yarn, "yarn.cluster.kill")) == 1


def test_execution_timeout_kills_the_application_and_its_containers(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster
) -> None:
    _, tis = run_yarn_dag("yarn_cluster_timeout")

    assert tis["slow"].state == "failed"
    [found] = apps_named(local_yarn, "yarn.cluster.timeout")
    final = wait_until_final(local_yarn, found["id"])
    left = no_container_left(local_yarn, found["id"])
    print(f"\nexecution_timeout: {final['id']} {final['state']}/{final['finalStatus']}, containers left {left}")
    assert (final["state"], final["finalStatus"]) == ("KILLED", "KILLED")
    assert left == ([], [])


def test_resourcemanager_restart_mid_job_is_neither_success_nor_failure_until_the_job_ends(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, capfd: pytest.CaptureFixture[str]
) -> None:
    restart: dict[str, Any] = {}

    def restart_rm_while_running() -> None:
        try:
            restart["before"] = wait_for_app(local_yarn, "yarn.cluster.rm.restart", {"RUNNING"})
            time.sleep(2)
            started = time.monotonic()
            local_yarn.restart_resourcemanager()
            restart["took"] = time.monotonic() - started
        except BaseException as err:  # reported by the assertions below
            restart["error"] = err

    restarter = threading.Thread(target=restart_rm_while_running, daemon=True)
    restarter.start()
    dag_run, tis = run_yarn_dag("yarn_cluster_rm_restart", rows=900)
    restarter.join(timeout=120)

    assert "error" not in restart, restart.get("error")
    wait_until_final(local_yarn, restart["before"]["id"])
    found = apps_named(local_yarn, "yarn.cluster.rm.restart")
    with capfd.disabled():
        print(
            f"\nRM restart ({restart['took']:.1f}s) mid-job: task {tis['slow'].state}, "
            f"apps {[(a['id'], a['state'], a['finalStatus']) for a in found]}"
        )
    assert [a["id"] for a in found] == [restart["before"]["id"]]  # recovered, not resubmitted
    assert tis["slow"].state == "success"
    assert (found[0]["state"], found[0]["finalStatus"]) == ("FINISHED", "SUCCEEDED")
    assert xcom_value(dag_run, "slow")["state"] == "FINISHED"
