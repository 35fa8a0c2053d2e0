"""DAGs the "Flink job" view's browser test runs in a real Airflow deployment (tests/browser).

``flinkbatch_view_ok`` finishes (with plan insight from ``explain=True``); ``flinkbatch_view_bad``
fails at run time on a value that is not a number (a ``user_data_error``, not retried). Both read CSV
files the test writes under ``FLINKBATCH_VIEW_DATA_DIR`` and use the ``flink_view`` connection.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

DATA = os.environ.get("FLINKBATCH_VIEW_DATA_DIR", "/nonexistent")
CONN_ID = "flink_view"


def amounts_sql(source: str, out: str) -> str:
    return f"""
CREATE TEMPORARY TABLE amounts (id BIGINT, country STRING, amount STRING) WITH (
  'connector' = 'filesystem', 'path' = '{DATA}/{source}', 'format' = 'csv'
);
CREATE TEMPORARY TABLE totals (country STRING, orders BIGINT, total INT) WITH (
  'connector' = 'filesystem', 'path' = '{DATA}/{out}', 'format' = 'csv'
);
INSERT INTO totals SELECT country, COUNT(*), SUM(CAST(amount AS INT)) FROM amounts WHERE id > 0 GROUP BY country;
"""


for dag_id, source, explain in (
    ("flinkbatch_view_ok", "good.csv", True),
    ("flinkbatch_view_bad", "bad.csv", False),
):
    with DAG(dag_id=dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["flink"]):
        FlinkBatchSqlOperator(
            task_id="totals",
            sql=amounts_sql(source, f"out-{dag_id}"),
            flink_conn_id=CONN_ID,
            job_name=f"{dag_id}.totals",
            explain=explain,
            deferrable=True,
            retries=0,
        )
