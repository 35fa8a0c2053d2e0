"""DAGs for the user actions and the defer race on real Airflow processes (tests/deferred_airflow.py).

``deferred_slow``: a deferrable task whose job runs about three minutes (long enough to clear or mark it while it
waits in the triggerer, also on a loaded machine where the triggerer answers a state question in a minute or two). ``deferred_short``: a deferrable task whose job runs about two seconds (the defer
race of Airflow 3.3). Each run's Flink job is named after the run id, so a test counts one run's jobs.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator


def _sql(rows: int) -> str:
    return f"""
CREATE TEMPORARY TABLE slow_source (id BIGINT)
  WITH ('connector' = 'datagen', 'number-of-rows' = '{rows}', 'rows-per-second' = '20');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
"""


for dag_id, rows in (("deferred_slow", 3600), ("deferred_short", 40)):
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 1, 1), max_active_runs=8, catchup=False):
        FlinkBatchSqlOperator(
            task_id="job",
            sql=_sql(rows),
            job_name="{{ dag.dag_id }}.{{ run_id }}",
            deferrable=True,
            poll_interval=0.5,
        )
