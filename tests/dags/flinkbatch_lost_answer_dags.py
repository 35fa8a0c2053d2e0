"""A DAG whose submissions' answers a test proxy loses (tests/session/test_lost_answer.py)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

SQL = """
CREATE TEMPORARY TABLE slow_source (id BIGINT)
  WITH ('connector' = 'datagen', 'number-of-rows' = '60', 'rows-per-second' = '20');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
"""

with DAG("it_lost_answer", schedule=None, start_date=datetime(2026, 1, 1), params={"data_dir": "/nonexistent"}):
    for deferrable in (False, True):
        FlinkBatchSqlOperator(
            task_id="deferrable" if deferrable else "blocking",
            sql=SQL,
            job_name=f"it.lost-answer.task.{'deferrable' if deferrable else 'blocking'}",
            deferrable=deferrable,
            defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
            poll_interval=0.5,
        )
