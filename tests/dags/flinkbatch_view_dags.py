"""DAGs the "Flink job" view's browser test runs in a real Airflow deployment (tests/browser).

``flinkbatch_view_ok`` finishes (with plan insight from ``explain=True``); ``flinkbatch_view_bad``
fails at run time on a value that is not a number (a ``user_data_error``, not retried). Both read CSV
files the test writes under ``FLINKBATCH_VIEW_DATA_DIR`` and use the ``flink_view`` connection.
``flinkbatch_view_downstream`` is scheduled on the asset of the table ``flinkbatch_view_ok`` writes.
``flinkbatch_view_mapped`` maps one task over two scripts: two task instances (map index 0 and 1), two jobs.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Asset, task

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


with DAG(
    dag_id="flinkbatch_view_mapped", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["flink"]
):
    FlinkBatchSqlOperator.partial(
        task_id="totals", flink_conn_id=CONN_ID, deferrable=True, retries=0, max_active_tis_per_dagrun=1
    ).expand(
        sql=[amounts_sql("good.csv", f"out-mapped-{index}").replace("id > 0", f"id > {index}") for index in range(2)]
    )


with DAG(
    dag_id="flinkbatch_view_downstream",
    schedule=[Asset(f"file://{DATA}/out-flinkbatch_view_ok")],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["flink"],
):

    @task
    def report(triggering_asset_events: dict | None = None) -> list[dict]:
        """What the asset events that triggered this run carried (the upstream job's id, rows written)."""
        return [dict(event.extra) for events in (triggering_asset_events or {}).values() for event in events]

    report()
