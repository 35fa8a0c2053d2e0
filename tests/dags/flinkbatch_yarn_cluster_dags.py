"""DAGs that run Flink SQL with ``target="yarn"`` on the REAL local YARN cluster (tests/yarn/test_real_cluster.py).

The ``flink_yarn_default`` connection is the one ``flinkbatch local yarn up`` prints (set by the tests):
the real Flink CLI deploys ``yarn-application`` clusters whose JobManager and TaskManagers run in YARN
containers. Queues there: ``default`` and ``etl``; the largest container: 2048 MiB.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

START = datetime(2026, 1, 1)
PARAMS = {"data_dir": "/nonexistent", "rows": 600}
YARN: dict[str, Any] = {"target": "yarn", "flink_conn_id": "flink_yarn_default", "poll_interval": 1.0}

ORDERS_DDL = """
CREATE TEMPORARY TABLE orders (order_id BIGINT, country STRING, amount STRING, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/input/orders.csv', 'format' = 'csv'
);
"""


def totals_sql(out: str) -> str:
    return (
        ORDERS_DDL
        + f"""
CREATE TEMPORARY TABLE totals (country STRING, orders BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/{out}', 'format' = 'csv'
);
INSERT INTO totals SELECT country, COUNT(*) FROM orders GROUP BY country;
"""
    )


#: Fails at run time, in a TaskManager: CAST('x;y' AS INT) throws (Flink 2.x casts strictly).
RUNTIME_ERROR_SQL = (
    ORDERS_DDL
    + """
CREATE TEMPORARY TABLE sink (order_id BIGINT, n INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT order_id, CAST(note AS INT) FROM orders;
"""
)

#: About ``rows / 20`` seconds of work (throttled datagen into a blackhole).
SLOW_SQL = """
CREATE TEMPORARY TABLE slow_source (id BIGINT)
  WITH ('connector' = 'datagen', 'number-of-rows' = '{{ params.rows }}', 'rows-per-second' = '20');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
"""

with DAG("yarn_cluster_totals", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="deferrable",
        sql=totals_sql("out_deferrable"),
        job_name="yarn.cluster.deferrable",
        target_options={"queue": "etl", "jobmanager_memory": "1g", "tags": ["team-sales"]},
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        **YARN,
    )
    FlinkBatchSqlOperator(
        task_id="blocking",
        sql=totals_sql("out_blocking"),
        job_name="yarn.cluster.blocking",
        deferrable=False,
        **YARN,
    )

with DAG("yarn_cluster_runtime_error", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="after_exit",  # the application ends with the job: diagnosis from the archive
        sql=RUNTIME_ERROR_SQL,
        job_name="yarn.cluster.after_exit",
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        **YARN,
    )
    FlinkBatchSqlOperator(
        task_id="jobmanager_alive",  # the JobManager stays up after the job: diagnosis from it
        sql=RUNTIME_ERROR_SQL,
        job_name="yarn.cluster.jobmanager_alive",
        target_options={"flink_config": {"execution.shutdown-on-application-finish": False}},
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        **YARN,
    )

# One DAG per drill, so each drill counts only its own applications (by name).
for dag_id, deferrable in (
    ("yarn_cluster_crash", True),
    ("yarn_cluster_rm_restart", True),
    ("yarn_cluster_kill", False),
):
    with DAG(dag_id, schedule=None, start_date=START, params=PARAMS):
        FlinkBatchSqlOperator(
            task_id="slow", sql=SLOW_SQL, job_name=dag_id.replace("_", "."), deferrable=deferrable, **YARN
        )

with DAG("yarn_cluster_timeout", schedule=None, start_date=START, params={**PARAMS, "rows": 100000}):
    FlinkBatchSqlOperator(
        task_id="slow",
        sql=SLOW_SQL,
        job_name="yarn.cluster.timeout",
        deferrable=False,
        execution_timeout=timedelta(seconds=90),
        **YARN,
    )

with DAG("yarn_cluster_bad_input", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="unknown_queue",
        sql=totals_sql("out_queue"),
        job_name="yarn.cluster.unknown_queue",
        target_options={"queue": "no_such_queue"},
        **YARN,
    )
    FlinkBatchSqlOperator(
        task_id="jobmanager_too_big",
        sql=totals_sql("out_big"),
        job_name="yarn.cluster.jobmanager_too_big",
        target_options={"jobmanager_memory": "4g"},
        **YARN,
    )

with DAG("yarn_cluster_unreachable", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="unreachable",
        sql=totals_sql("out_unreachable"),
        job_name="yarn.cluster.unreachable",
        target="yarn",
        flink_conn_id="flink_yarn_unreachable",
        transient_error_budget=5.0,
    )

with DAG("yarn_cluster_rerun", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(task_id="totals", sql=totals_sql("out_rerun"), job_name="yarn.cluster.rerun", **YARN)

with DAG("yarn_cluster_sql_error", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="bad_column",
        sql=totals_sql("out_bad").replace("SELECT country,", "SELECT countr,"),
        job_name="yarn.cluster.sql_error",
        retries=2,  # an SQL error is not retryable: the task must fail at once anyway
        retry_delay=timedelta(seconds=0),
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        **YARN,
    )
