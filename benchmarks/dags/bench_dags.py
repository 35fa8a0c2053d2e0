"""DAGs the overhead benchmarks run with ``dag.test()`` (a tiny job, and one that fails at runtime)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

TINY = """CREATE TEMPORARY TABLE sink (x INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT * FROM (VALUES (1), (2), (3)) AS t(x);"""
FAILING = """CREATE TEMPORARY TABLE sink (x INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT CAST(s AS INT) * 0 + 1 / (CAST(s AS INT) - 1) FROM (VALUES ('1')) AS t(s);"""

for deferrable in (False, True):
    with DAG(
        f"bench_tiny_{'deferrable' if deferrable else 'blocking'}", schedule=None, start_date=datetime(2026, 1, 1)
    ):
        FlinkBatchSqlOperator(task_id="tiny", sql=TINY, deferrable=deferrable)

with DAG("bench_tiny_deferred", schedule=None, start_date=datetime(2026, 1, 1)):  # defers at once: the trigger waits
    FlinkBatchSqlOperator(task_id="tiny", sql=TINY, deferrable=True, defer_grace=0)

with DAG("bench_failure", schedule=None, start_date=datetime(2026, 1, 1)):
    FlinkBatchSqlOperator(task_id="fails", sql=FAILING, retries=0)


with DAG("bench_noop", schedule=None, start_date=datetime(2026, 1, 1)):  # P1's floor: Airflow's own cost of a task

    @task(task_id="noop")
    def noop() -> None:
        return None

    noop()
