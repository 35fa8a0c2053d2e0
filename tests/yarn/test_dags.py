"""``FlinkBatchSqlOperator(target="yarn")`` run as Airflow runs it (dag.test), against the emulated RM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import RunDag, read_output, xcom_value
from yarn_rm_emulator import RmEmulator, recorded

pytestmark = pytest.mark.integration
DAGS = Path(__file__).resolve().parents[1] / "dags"


def test_deferrable_and_blocking_tasks_run_as_yarn_applications(
    run_dag: RunDag, yarn_conn: str, yarn_rm: RmEmulator, orders: Path, data_dir: Path, cli_record: Path
) -> None:
    dag_run, tis = run_dag("it_yarn_totals")

    assert {task: ti.state for task, ti in tis.items()} == {"deferrable": "success", "blocking": "success"}
    calls = recorded(cli_record)
    assert len(calls) == 2 and all(c["argv"][:3] == ["run", "-t", "yarn-application"] for c in calls)
    for task in ("deferrable", "blocking"):
        assert read_output(data_dir / f"out_{task}") == ["DE,2", "FR,1", "US,2"]
        summary = xcom_value(dag_run, task)
        info = xcom_value(dag_run, task, "flink_job")
        app = yarn_rm.apps[info["ref"]]
        print(f"\n{task}: job {summary['job_id']} app {app.id} {app.state}/{app.final_status} queue {app.queue}")
        assert (summary["state"], summary["name"], app.job_id) == ("FINISHED", f"it.yarn.{task}", summary["job_id"])
        assert (app.state, app.final_status) == ("FINISHED", "SUCCEEDED")
        assert xcom_value(dag_run, task, "_link_YarnApplicationLink") == f"{yarn_rm.url}/cluster/app/{app.id}"
        assert xcom_value(dag_run, task, "_link_FlinkHistoryServerLink").endswith(
            f"/#/job/completed/{summary['job_id']}/overview"
        )
    deferrable = yarn_rm.apps[xcom_value(dag_run, "deferrable", "flink_job")["ref"]]
    assert (deferrable.queue, "team-sales" in deferrable.tags) == ("etl", True)


def test_rerun_of_the_same_task_instance_finds_the_application_by_tag(
    run_dag: RunDag, yarn_conn: str, yarn_rm: RmEmulator, orders: Path, cli_record: Path
) -> None:
    when = datetime(2026, 4, 1, tzinfo=UTC)
    first_run, first = run_dag("it_yarn_totals", logical_date=when)
    assert {ti.state for ti in first.values()} == {"success"}
    second_run, second = run_dag("it_yarn_totals", logical_date=when)

    assert {ti.state for ti in second.values()} == {"success"}
    assert len(recorded(cli_record)) == 2  # nothing submitted the second time
    assert len(yarn_rm.apps) == 2
    for task in ("deferrable", "blocking"):
        assert xcom_value(second_run, task)["job_id"] == xcom_value(first_run, task)["job_id"]


def test_sql_error_fails_fast_with_root_cause_and_yarn_diagnostics(
    run_dag: RunDag, yarn_conn: str, yarn_rm: RmEmulator, orders: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run, tis = run_dag("it_yarn_sql_error")

    assert tis["bad_column"].state == "failed"
    assert tis["bad_column"].try_number == 1  # not retried
    (app,) = yarn_rm.apps.values()
    assert (app.state, app.final_status) == ("FAILED", "FAILED")
    diagnosis = xcom_value(dag_run, "bad_column", "flink_diagnosis")
    shown = {k: diagnosis[k] for k in ("job_id", "category", "exception_class", "source")}
    with capfd.disabled():
        print(f"\nsql error: app {app.id} {app.state}/{app.final_status}", shown)
    assert diagnosis["category"] == "sql_error" and diagnosis["source"] == "yarn"
    assert "Column 'countr' not found" in diagnosis["message"]
    assert f"YARN application {app.id} FAILED/FAILED" in diagnosis["advice"]
    assert "Column 'countr' not found" in capfd.readouterr().out


def test_worker_killed_mid_run_next_try_reattaches_by_tag(
    run_dag: RunDag,
    yarn_conn: str,
    yarn_rm: RmEmulator,
    data_dir: Path,
    cli_record: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    when = datetime(2026, 4, 2, tzinfo=UTC)
    worker = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).parents[1] / "drills" / "run_dag_process.py"),
            str(DAGS),
            "it_yarn_crash",
            when.isoformat(),
            json.dumps({"data_dir": str(data_dir)}),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(1200):
            running = [app for app in yarn_rm.apps.values() if app.state == "RUNNING"]
            if running:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the worker never got an application RUNNING")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker dies without any chance to clean up
        worker.wait()

    capfd.readouterr()
    dag_run, tis = run_dag("it_yarn_crash", logical_date=when)

    assert tis["crash"].state == "success"
    assert len(recorded(cli_record)) == 1  # one flink run, one application
    (app,) = yarn_rm.apps.values()
    with capfd.disabled():
        print(f"\ncrash drill: job {app.job_id} app {app.id} {app.state}/{app.final_status}, one flink run")
    assert (app.state, app.final_status) == ("FINISHED", "SUCCEEDED")
    assert xcom_value(dag_run, "crash")["job_id"] == app.job_id
    assert f"Reattached to Flink job {app.job_id}" in capfd.readouterr().out
