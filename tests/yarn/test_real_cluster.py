"""``FlinkBatchSqlOperator(target="yarn")`` on a REAL YARN cluster (MiniYARNCluster, see ``flinkbatch local yarn``).

The real Flink 2.3 CLI deploys ``yarn-application`` clusters: JobManager and TaskManagers run in YARN
containers started by real NodeManagers, the SQL runner jar is shipped with the application, and
tracking goes through the real ResourceManager REST API and web proxy. Expected states, tags, queues
and diagnostics are YARN's and Flink's own answers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import RunDag, dag_runner, read_output, xcom_value
from real_yarn import StateRecorder, app, apps_named, wait_until_final

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster

pytestmark = pytest.mark.integration


@pytest.fixture
def run_yarn_dag(airflow_db: None, yarn_cluster_conn: str, data_dir: Path) -> RunDag:
    return dag_runner(data_dir)


@pytest.fixture
def recorder(local_yarn: LocalYarnCluster) -> Iterator[StateRecorder]:
    with StateRecorder(local_yarn) as watching:
        yield watching


def archived_state(history_url: str, job_id: str, timeout: float = 60) -> str | None:
    """The job's state in the HistoryServer, once it picked up the archive (it scans every second)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        # While it unpacks an archive the HistoryServer can answer 200 with an empty body, or with a body cut
        # short of its Content-Length (it rewrites the file it serves): ask again.
        try:
            answer = requests.get(f"{history_url}/jobs/{job_id}", timeout=10)
            state = answer.json().get("state") if answer.ok and answer.content.strip() else None
        except (requests.RequestException, ValueError):
            state = None
        if state or time.monotonic() > deadline:
            return state
        time.sleep(1)


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
        # The task ends with the Flink job; YARN ends the application moments later.
        found = wait_until_final(local_yarn, xcom_value(dag_run, task, "flink_job")["ref"])
        job_id = summary["job_id"]
        assert (found["state"], found["finalStatus"], found["name"]) == (
            "FINISHED",
            "SUCCEEDED",
            f"yarn.cluster.{task}",
        )
        assert f"flinkbatch-job-{job_id}" in found["applicationTags"].split(",")
        states = [*recorder.seen[found["id"]], f"{found['state']}/{found['finalStatus']}"]
        states = [state for i, state in enumerate(states) if i == 0 or states[i - 1] != state]
        with capfd.disabled():
            print(f"\n{task}: {found['id']} queue {found['queue']} RM states {' -> '.join(states)}")
        assert "RUNNING/UNDEFINED" in states
        # While it ran, Flink's own REST API answered through the RM web proxy (the tracking URL).
        assert recorder.proxied[found["id"]]["jid"] == job_id
        # Links: the RM application page, the HistoryServer's job page.
        # (MiniYARNCluster serves no RM HTML pages: its NodeManagers' web apps take over the one Guice
        # filter of the JVM. The RM's own proxy names the page it sends users to once the app ended.)
        yarn_link = xcom_value(dag_run, task, "_link_YarnApplicationLink")
        assert yarn_link == f"{info.rm_url}/cluster/app/{found['id']}"
        moved = requests.get(found["trackingUrl"], timeout=10, allow_redirects=False).text
        assert f'/cluster/app/{found["id"]}"' in moved
        history_link = xcom_value(dag_run, task, "_link_FlinkHistoryServerLink")
        assert history_link == f"{info.history_url}/#/job/completed/{job_id}/overview"
        assert archived_state(info.history_url, job_id) == "FINISHED"
    deferrable = app_of(dag_run, "deferrable", local_yarn)
    assert deferrable["queue"] == "root.etl" and "team-sales" in deferrable["applicationTags"].split(",")


EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"


def test_the_yarn_example_dag_runs_on_the_cluster(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """``example_dags/flink_batch_sql_yarn.py`` as shipped, with ``data_root`` pointed at a local folder."""
    day = data_dir / "warehouse" / "orders" / "dt=2026-03-01"
    day.mkdir(parents=True)
    (day / "orders.csv").write_text("1,DE,120.50\n2,FR,35.00\n3,DE,80.25\n4,US,410.00\n")

    dag_run, tis = run_yarn_dag(
        "flink_batch_sql_yarn",
        EXAMPLES,
        logical_date=datetime(2026, 3, 1, tzinfo=UTC),
        data_root=f"file://{data_dir / 'warehouse'}",
    )

    assert tis["daily_totals"].state == "success"
    # Flink's csv format writes a DECIMAL as Jackson's number node: trailing zeros go, 410.00 reads 4.1E+2.
    totals = read_output(data_dir / "warehouse" / "totals" / "dt=2026-03-01")
    assert totals == ["DE,200.75", "FR,35", "US,4.1E+2"]
    found = wait_until_final(local_yarn, xcom_value(dag_run, "daily_totals", "flink_job")["ref"])
    assert (found["state"], found["finalStatus"], found["queue"]) == ("FINISHED", "SUCCEEDED", "root.etl")
    with capfd.disabled():
        print(f"\nexample: {found['id']} {found['name']} {found['state']}/{found['finalStatus']} in {found['queue']}")


def test_runtime_failure_is_diagnosed_from_the_live_jobmanager_and_from_the_archive(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, orders: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run, tis = run_yarn_dag("yarn_cluster_runtime_error")
    info = local_yarn.info()
    assert info is not None

    try:
        assert {task: ti.state for task, ti in tis.items()} == {"after_exit": "failed", "jobmanager_alive": "failed"}
        for task in tis:
            diagnosis = xcom_value(dag_run, task, "flink_diagnosis")
            shown = {k: diagnosis[k] for k in ("source", "state", "category", "exception_class", "vertex")}
            with capfd.disabled():
                print(f"\n{task}: {shown}\n  {diagnosis['message'][:160]}")
            assert (diagnosis["state"], diagnosis["category"]) == ("FAILED", "user_data_error")
            assert diagnosis["exception_class"] == "java.lang.NumberFormatException"
            assert "sink" in diagnosis["vertex"]
        # A JobManager that outlives its job answers through the RM web proxy; one that ends with its
        # job was asked while it lived or, once gone, the HistoryServer was.
        assert xcom_value(dag_run, "jobmanager_alive", "flink_diagnosis")["source"] == "jobmanager"
        assert xcom_value(dag_run, "after_exit", "flink_diagnosis")["source"] in ("jobmanager", "historyserver")
        # The application that ends with its job: YARN's verdict, then the archive alone knows why.
        ended = wait_until_final(local_yarn, xcom_value(dag_run, "after_exit", "flink_job")["ref"])
        assert (ended["state"], ended["finalStatus"]) == ("FINISHED", "FAILED")
        job_id = xcom_value(dag_run, "after_exit", "flink_job")["job_id"]
        # The JobManager writes the archive as the application ends; the HistoryServer picks it up on its
        # next scan, which can trail YARN's FINISHED by a few seconds on a loaded machine.
        assert archived_state(info.history_url, job_id) == "FAILED"
        capfd.readouterr()
        assert main(["diagnose", job_id, "--history-url", info.history_url, "--json"]) == 0
        archived = json.loads(capfd.readouterr().out)
        with capfd.disabled():
            print(f"{ended['id']} {ended['state']}/{ended['finalStatus']}, archive: {archived['exception_class']}")
        assert (archived["source"], archived["exception_class"]) == ("historyserver", "java.lang.NumberFormatException")
        assert "sink" in archived["vertex"]
        # With execution.shutdown-on-application-finish=false the JobManager (and the application) stays.
        assert app_of(dag_run, "jobmanager_alive", local_yarn)["state"] == "RUNNING"
    finally:
        for task in tis:
            ref = xcom_value(dag_run, task, "flink_job")["ref"]
            requests.put(
                f"{info.rm_url}/ws/v1/cluster/apps/{ref}/state",
                params={"user.name": "tests"},
                json={"state": "KILLED"},
                timeout=10,
            )


def test_bad_queue_and_oversized_jobmanager_fail_with_yarns_own_words(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, orders: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    capfd.readouterr()
    _, tis = run_yarn_dag("yarn_cluster_bad_input")

    assert {task: ti.state for task, ti in tis.items()} == {"unknown_queue": "failed", "jobmanager_too_big": "failed"}
    out = capfd.readouterr().out
    with capfd.disabled():
        for line in out.splitlines():
            if "no_such_queue" in line or "4096" in line:
                print(f"\n  {line.strip()[:400]}")
    # The RM refuses the queue by name; the task says so and lists the queues the scheduler has.
    assert "to unknown queue: no_such_queue" in out
    assert "the scheduler's queues: default, etl" in out
    assert "Submitted Flink job" not in out.split("yarn.cluster.jobmanager_too_big")[0]
    # YARN's maximum allocation (yarn.scheduler.maximum-allocation-mb = 2048) against the 4 GiB asked for.
    assert "2048" in out and "4096" in out
    assert apps_named(local_yarn, "yarn.cluster.jobmanager_too_big") == []  # nothing was submitted


def test_unreachable_resourcemanager_fails_fast_and_names_the_url(
    airflow_db: None,
    local_yarn: LocalYarnCluster,
    data_dir: Path,
    orders: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    import json
    import socket
    import time

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    info = local_yarn.info()
    assert info is not None
    connection = json.loads(info.connection_uri_json()) | {"host": closed}
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_YARN_UNREACHABLE", json.dumps(connection))
    capfd.readouterr()
    started = time.monotonic()
    _, tis = dag_runner(data_dir)("yarn_cluster_unreachable")
    took = time.monotonic() - started

    assert tis["unreachable"].state == "failed"
    out = capfd.readouterr().out
    with capfd.disabled():
        print(
            f"\nunreachable RM: failed after {took:.0f}s; "
            + next(line for line in out.splitlines() if closed in line)[:300]
        )
    assert closed in out
    assert took < 120  # the 5 s error budget, not the 180 s default nor the CLI timeout


def test_rerun_of_the_same_task_instance_finds_its_application_and_submits_nothing(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, orders: Path
) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 6, 1, tzinfo=UTC)
    first_run, first = run_yarn_dag("yarn_cluster_rerun", logical_date=when)
    second_run, second = run_yarn_dag("yarn_cluster_rerun", logical_date=when)

    assert first["totals"].state == second["totals"].state == "success"
    found = apps_named(local_yarn, "yarn.cluster.rerun")
    assert [a["id"] for a in found] == [xcom_value(first_run, "totals", "flink_job")["ref"]]  # one application
    assert xcom_value(second_run, "totals")["job_id"] == xcom_value(first_run, "totals")["job_id"]


def test_sql_error_in_the_jobmanager_fails_at_once_with_flinks_words_and_yarns_verdict(
    run_yarn_dag: RunDag, local_yarn: LocalYarnCluster, orders: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run, tis = run_yarn_dag("yarn_cluster_sql_error")

    assert tis["bad_column"].state == "failed"
    assert tis["bad_column"].try_number == 1  # not retried
    [found] = apps_named(local_yarn, "yarn.cluster.sql_error")
    found = wait_until_final(local_yarn, found["id"])
    diagnosis = xcom_value(dag_run, "bad_column", "flink_diagnosis")
    with capfd.disabled():
        shown = {k: diagnosis[k] for k in ("source", "category", "exception_class")}
        print(f"\nsql error: {found['id']} {found['state']}/{found['finalStatus']} {shown}")
    assert found["finalStatus"] == "FAILED"
    assert diagnosis["category"] == "sql_error"
    assert "Column 'countr' not found" in diagnosis["message"]
    assert f"YARN application {found['id']} " in diagnosis["advice"]  # YARN's side of it, next to Flink's
