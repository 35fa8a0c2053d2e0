"""Example: a multi-statement Flink SQL batch job on the local session cluster.

Run it end to end with ``bash scripts/demo.sh`` (starts local Flink, then ``airflow dags test``).
The SQL lives in ``sql/flink_batch_sql_local.sql``; it is Jinja-templated and holds DDL, a ``SET``
and two INSERTs that Flink runs as one job. ``deferrable=True`` hands the wait to the triggerer.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

DEFAULT_DATA_DIR = os.environ.get(
    "FLINKBATCH_EXAMPLE_DATA_DIR", os.path.join(tempfile.gettempdir(), "flinkbatch-example")
)

ORDERS = [
    (1, "DE", "120.50", "first order"),
    (2, "FR", "35.00", "small"),
    (3, "DE", "80.25", "repeat customer"),
    (4, "US", "410.00", "wholesale"),
    (5, "FR", "150.00", "test order; ignore"),
    (6, "US", "19.99", "sample"),
]


with DAG(
    dag_id="flink_batch_sql_local",
    description="Multi-statement Flink batch SQL on the local session cluster",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"data_dir": Param(DEFAULT_DATA_DIR, type="string", description="absolute dir for input/output")},
    tags=["flink", "example"],
) as dag:

    @task
    def prepare_input(params: dict[str, Any] | None = None) -> str:
        """Write the sample orders CSV (the cluster reads it from the same machine)."""
        data_dir = Path((params or {})["data_dir"])
        (data_dir / "input").mkdir(parents=True, exist_ok=True)
        lines = [",".join(str(value) for value in row) for row in ORDERS]
        # The note with a ';' is quoted so the CSV reader keeps it as one field.
        lines = [line.replace("test order; ignore", '"test order; ignore"') for line in lines]
        (data_dir / "input" / "orders.csv").write_text("\n".join(lines) + "\n")
        return str(data_dir)

    daily_revenue = FlinkBatchSqlOperator(
        task_id="daily_revenue",
        sql="sql/flink_batch_sql_local.sql",
        flink_conn_id="flink_batch_default",
        flink_config={"pipeline.max-parallelism": 4},
        job_name="example.daily_revenue",
        deferrable=True,
        poll_interval=1.0,
    )

    @task
    def show_results(summary: dict[str, Any], data_dir: str, ti: Any = None) -> dict[str, list[str]]:
        """Print the rows Flink wrote and where to look at the job."""
        from airflow_provider_flinkbatch.links.urls import flink_ui_job_url, history_server_job_url

        results: dict[str, list[str]] = {}
        for table in ("revenue_by_country", "large_orders"):
            rows: list[str] = []
            for part in sorted((Path(data_dir) / "output" / table).rglob("*")):
                if part.is_file() and not part.name.startswith("."):
                    rows += part.read_text().splitlines()
            results[table] = sorted(rows)
            print(f"== {table} ({len(rows)} rows)")
            for row in results[table]:
                print(f"   {row}")
        job = ti.xcom_pull(task_ids="daily_revenue", key="flink_job")
        print(f"Flink job {summary['job_id']} {summary['state']} in {summary['duration_ms']} ms")
        print(f"Flink UI          : {flink_ui_job_url(job['web_ui_url'], job['job_id'], finished=True)}")
        if job.get("history_server_url"):
            print(f"Flink HistoryServer: {history_server_job_url(job['history_server_url'], job['job_id'])}")
        return results

    data_dir = prepare_input()
    data_dir >> daily_revenue
    show_results(daily_revenue.output, data_dir)  # type: ignore[arg-type]  # XComArgs resolve at run time
