"""User values that reach the log are one bounded line: a job name cannot forge log lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import write_tree

from airflow_provider_flinkbatch.specs.load import load_specs

FORGED = "daily\n[2026-12-01 10:00:00] INFO - Task exited with return code 0"
PROBLEM = (
    "job_name 'daily\\n[2026-12-01 10:00:00] INFO - Task exited with return code 0' holds a line break or control "
    "character; give one line of text (it names the job in Flink's UI and in the logs)"
)


def test_a_spec_job_name_must_be_one_bounded_line(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "jobs/forged.yaml": 'sql: job.sql\njob_name: "daily\\n[2026-12-01 10:00:00] INFO - Task exited with return code 0"\n',
            "jobs/long.yaml": f"sql: job.sql\njob_name: {'x' * 201}\n",
            "jobs/fine.yaml": 'sql: job.sql\njob_name: "it\'s fine; $(quotes) `too`"\n',
            "jobs/job.sql": "INSERT INTO t SELECT 1;\n",
        },
    )
    specs = load_specs(tmp_path / "jobs")
    assert [str(error) for error in specs.errors] == [
        f"jobs/forged.yaml: job_name: {PROBLEM.removeprefix('job_name ')}",
        "jobs/long.yaml: job_name: is 201 characters long; the limit is 200",
    ]
    assert [spec.name for spec in specs.specs] == ["fine"]


def test_a_rendered_job_name_with_a_line_break_fails_the_task_before_anything_is_submitted(
    airflow_db: None, scratch_dags: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (scratch_dags / "forged_name.py").write_text(
        "import datetime as dt\n"
        "from airflow.sdk import DAG\n"
        "from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator\n"
        f"with DAG('forged_name', schedule=None, start_date=dt.datetime(2026, 1, 1), params={{'name': {FORGED!r}}}):\n"
        "    FlinkBatchSqlOperator(task_id='t', sql='INSERT INTO t SELECT 1;', job_name='{{ params.name }}',\n"
        "                          flink_conn_id='not_defined_anywhere')\n"
    )
    bag = DagBag(dag_folder=str(scratch_dags), safe_mode=False)
    assert bag.import_errors == {}
    dag_run = bag.get_dag("forged_name").test()
    assert {ti.task_id: ti.state for ti in dag_run.get_task_instances()} == {"t": "failed"}
    out, err = capfd.readouterr()
    assert f"t: {PROBLEM}" in out + err
    assert "not_defined_anywhere" not in out + err  # failed before looking up the connection
