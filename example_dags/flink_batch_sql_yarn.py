"""Example: Flink batch SQL as a YARN application (``target="yarn"``); see ``docs/yarn.md``.

Needs a ``flink_yarn`` connection (ResourceManager URL, ``flink_home`` with a Hadoop-enabled Flink) and
input on a filesystem the YARN containers can read: HDFS by default, any Flink filesystem URI through the
``data_root`` param (``flinkbatch local yarn up`` runs it on one machine with ``file://`` paths).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

with DAG(
    dag_id="flink_batch_sql_yarn",
    description="Daily totals as a Flink application cluster on YARN",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"data_root": "hdfs:///data"},
):
    FlinkBatchSqlOperator(
        task_id="daily_totals",
        sql="""
CREATE TEMPORARY TABLE orders (order_id BIGINT, country STRING, amount DECIMAL(10, 2)) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_root }}/orders/dt={{ ds }}', 'format' = 'csv'
);
CREATE TEMPORARY TABLE totals (country STRING, revenue DECIMAL(12, 2)) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_root }}/totals/dt={{ ds }}', 'format' = 'csv'
);
INSERT OVERWRITE totals SELECT country, SUM(amount) FROM orders GROUP BY country;
""",
        job_name="example.yarn.daily_totals",
        target="yarn",
        flink_conn_id="flink_yarn_default",
        target_options={"queue": "etl", "jobmanager_memory": "1600m", "taskmanager_memory": "2g"},
        flink_config={"parallelism.default": 2, "taskmanager.numberOfTaskSlots": 2},
        deferrable=True,
    )
