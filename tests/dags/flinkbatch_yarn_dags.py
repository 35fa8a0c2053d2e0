"""DAGs that run Flink SQL with ``target="yarn"`` against the emulated ResourceManager (tests/yarn).

The ``flink_yarn_default`` connection (RM URL, fake ``flink`` CLI, HistoryServer) is set by the tests;
the applications run the real job on the local Flink cluster.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

START = datetime(2026, 1, 1)
PARAMS = {"data_dir": "/nonexistent"}
YARN: dict[str, Any] = {"target": "yarn", "flink_conn_id": "flink_yarn_default", "poll_interval": 0.5}


def totals_sql(out: str, column: str = "country") -> str:
    return f"""
CREATE TEMPORARY TABLE orders (order_id BIGINT, country STRING, amount STRING, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/input/orders.csv', 'format' = 'csv'
);
CREATE TEMPORARY TABLE totals (country STRING, orders BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/{out}', 'format' = 'csv'
);
INSERT INTO totals SELECT {column}, COUNT(*) FROM orders GROUP BY {column};
"""


with DAG("it_yarn_totals", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="deferrable",
        sql=totals_sql("out_deferrable"),
        job_name="it.yarn.deferrable",
        target_options={"queue": "etl", "jobmanager_memory": "1g", "tags": ["team-sales"]},
        deferrable=True,
        **YARN,
    )
    FlinkBatchSqlOperator(
        task_id="blocking",
        sql=totals_sql("out_blocking"),
        job_name="it.yarn.blocking",
        deferrable=False,
        **YARN,
    )

with DAG("it_yarn_sql_error", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="bad_column",
        sql=totals_sql("out_bad", column="countr"),
        job_name="it.yarn.bad_column",
        deferrable=True,
        retries=2,  # an SQL error is not retryable: the task must fail at once anyway
        retry_delay=timedelta(seconds=0),
        **YARN,
    )

with DAG("it_yarn_crash", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="crash",
        sql="""
CREATE TEMPORARY TABLE slow_source (id BIGINT)
  WITH ('connector' = 'datagen', 'number-of-rows' = '240', 'rows-per-second' = '20');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
""",
        job_name="it.yarn.crash",
        deferrable=True,
        **YARN,
    )
