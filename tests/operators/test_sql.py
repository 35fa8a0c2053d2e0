"""FlinkBatchSqlOperator end to end on the real local Flink cluster, run as Airflow runs it (dag.test)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests
from conftest import RunDag, flink_jobs_named, read_output, xcom_value

from airflow_provider_flinkbatch.local import LocalClusterInfo

pytestmark = pytest.mark.integration


def test_multi_statement_script_runs_as_one_job_deferrable_and_blocking(
    run_dag: RunDag, orders: Path, data_dir: Path, flink_cluster: LocalClusterInfo
) -> None:
    dag_run, tis = run_dag("it_multi_statement")

    assert {task: ti.state for task, ti in tis.items()} == {"deferrable": "success", "blocking": "success"}
    for task, out in (("deferrable", "out_deferrable"), ("blocking", "out_blocking")):
        assert read_output(data_dir / out / "totals") == ["DE,2", "FR,1", "US,2"]
        # order 4 is big but its note is 'x;y': the ';' inside the string literal stayed part of the filter
        assert read_output(data_dir / out / "big") == ["1,first", "5,bulk"]

        summary = xcom_value(dag_run, task)
        assert summary["state"] == "FINISHED"
        assert summary["name"] == f"it.multi.{task}"
        assert summary["vertices_total"] == summary["vertices_finished"] >= 2
        assert summary["records_read"] == 10  # both INSERTs scan the 5 orders
        totals_sink = next(v for v in summary["vertices"] if "Sink" in v["name"] and "Source" not in v["name"])
        assert totals_sink["records_in"] == 3 and totals_sink["status"] == "FINISHED"
        assert summary["duration_ms"] > 0 and summary["end_time"] >= summary["start_time"]

        # ONE Flink job per task, carrying the job name and the operator's flink_config
        jobs = flink_jobs_named(flink_cluster.rest_url, f"it.multi.{task}")
        assert [j["jid"] for j in jobs] == [summary["job_id"]]
        assert jobs[0]["state"] == "FINISHED"

        # the task's extra links, as the Airflow UI reads them
        job_link = xcom_value(dag_run, task, "_link_FlinkJobLink")
        assert job_link == f"{flink_cluster.rest_url}/#/job/completed/{summary['job_id']}/overview"
        history_link = xcom_value(dag_run, task, "_link_FlinkHistoryServerLink")
        assert history_link == f"{flink_cluster.history_url}/#/job/completed/{summary['job_id']}/overview"

    # flink_config reached the job (max parallelism 8) and so did the script's SET (parallelism 2)
    job_id = xcom_value(dag_run, "deferrable")["job_id"]
    details = requests.get(f"{flink_cluster.rest_url}/jobs/{job_id}", timeout=10).json()
    assert {v["maxParallelism"] for v in details["vertices"]} == {8}
    config = requests.get(f"{flink_cluster.rest_url}/jobs/{job_id}/config", timeout=10).json()
    assert config["execution-config"]["job-parallelism"] == 2


def test_runtime_failure_fails_the_task_with_the_root_cause(
    run_dag: RunDag, orders: Path, flink_cluster: LocalClusterInfo, capfd: pytest.CaptureFixture[str]
) -> None:
    _, tis = run_dag("it_runtime_failure")

    assert tis["bad_cast"].state == "failed"
    assert tis["bad_cast"].try_number == 1  # retries=2, but bad data is not retryable
    [job] = flink_jobs_named(flink_cluster.rest_url, "it.runtime_failure")
    assert job["state"] == "FAILED"
    log = capfd.readouterr().out
    failure = next(line for line in log.splitlines() if "AirflowFailException: Flink job" in line)
    assert job["jid"] in failure and "FAILED [user_data_error]" in failure
    # the deepest cause, in one line, not the 300-line Java stack trace
    assert "NumberFormatException: For input string: 'first'" in failure
    assert "not retried" in failure  # bad data: retrying cannot help
    # where it failed (operator ids in brackets grow with every job the JobManager planned)
    assert re.search(r"  vertex       : Source: orders\[\d+\] -> Calc\[\d+\].*\(subtask 1/1\)", log)
    assert "  TaskManager  : localhost:" in log
    assert log.count("\tat org.apache.flink") == 0


def test_missing_input_is_not_retried_unless_asked_and_the_log_says_what_happens(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, capfd: pytest.CaptureFixture[str]
) -> None:
    _, tis = run_dag("it_missing_input")
    log = capfd.readouterr().out

    missing = tis["missing_input"]
    assert missing.state == "failed" and missing.try_number == 1  # retries=2, but a retry cannot create the file
    [job] = flink_jobs_named(flink_cluster.rest_url, "it.missing_input")
    assert job["state"] == "FAILED"
    assert f"Flink job {job['jid']} FAILED [input_missing]: java.io.FileNotFoundException: File " in log
    assert "check the table's 'path' and that the task writing it ran first" in log
    assert "retried      : no, this failure is not retried; retry_on={'input_missing': True} retries it" in log

    late = tis["late_input"]
    assert late.state == "failed" and late.try_number == 2  # retry_on={'input_missing': True}, retries=1: used
    jobs = flink_jobs_named(flink_cluster.rest_url, "it.late_input")
    assert len(jobs) == 2 and {j["state"] for j in jobs} == {"FAILED"}  # attempt 0 and attempt 1, two job ids
    # the sentence is true for each try: the first is retried, the second was the last
    assert "retried      : yes: Airflow retries the task (this was try 1 of 2)" in log
    assert "retried      : no: this was the last try (2 of 2)" in log


def test_sql_validation_error_fails_at_submission_without_retries_or_a_job(
    run_dag: RunDag, orders: Path, flink_cluster: LocalClusterInfo, capfd: pytest.CaptureFixture[str]
) -> None:
    _, tis = run_dag("it_validation_error")

    ti = tis["unknown_column"]
    assert ti.state == "failed"  # not up_for_retry, although the task has retries=3
    assert ti.try_number == 1
    assert flink_jobs_named(flink_cluster.rest_url, "it.validation_error") == []
    log = capfd.readouterr().out
    # Flink's message once, at the line and column of the .sql file, then the statement it is in
    assert (
        "AirflowFailException: Flink rejected the SQL, nothing was submitted: sql/it_validation_error.sql:12:8: "
        "SQL validation failed. From line 12, column 8 to line 12, column 21: "
        "Column 'no_such_column' not found in any table\n"
        "  in statement 3 of 3 (line 10): INSERT INTO sink SELECT country, no_such_column FROM orders\n"
    ) in log
    assert "SQL validation failed. SQL validation failed." not in log
    assert "\tat org.apache" not in log and "Caused by:" not in log  # Flink's Java stack trace is debug-level


@pytest.mark.drill
def test_task_timeout_cancels_the_flink_job(run_dag: RunDag, flink_cluster: LocalClusterInfo) -> None:
    _, tis = run_dag("it_timeout_cancels_job")

    assert tis["slow"].state == "failed"
    deadline = time.monotonic() + 30
    while True:
        [job] = flink_jobs_named(flink_cluster.rest_url, "it.timeout_cancels_job")
        if job["state"] == "CANCELED" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert job["state"] == "CANCELED"
