"""Which asset events a job's script yields: one per written data table, named like its OpenLineage dataset."""

from __future__ import annotations

from airflow.sdk import AssetAlias

from airflow_provider_flinkbatch.assets import alias_name, sink_events
from airflow_provider_flinkbatch.lineage import job_lineage
from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.sql.statements import split_statements

SQL = """
CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '/data/in', 'format' = 'csv');
CREATE TEMPORARY TABLE files (id BIGINT) WITH ('connector' = 'filesystem', 'path' = 's3://lake/out/files', 'format' = 'csv');
CREATE TEMPORARY TABLE events (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'ids',
  'properties.bootstrap.servers' = 'broker:9092,other:9092', 'format' = 'json');
CREATE TEMPORARY TABLE devnull (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO files SELECT id FROM src;
INSERT INTO events SELECT id FROM src;
INSERT INTO devnull SELECT id FROM src;
"""


def test_each_written_data_table_is_one_event_with_the_job_id_and_rows() -> None:
    summary = {"job_id": "a" * 32, "sinks": [{"table": "files", "rows": 7}, {"table": "events", "rows": None}]}
    events = sink_events(split_statements(SQL), summary)
    assert events == [
        (
            "s3://lake/out/files",
            {"table": "files", "connector": "filesystem", "flink_job_id": "a" * 32, "rows_written": 7},
        ),
        ("kafka://broker:9092/ids", {"table": "events", "connector": "kafka", "flink_job_id": "a" * 32}),
    ]
    # the same names as the OpenLineage outputs (blackhole aside)
    outputs = {
        f"{t.namespace}/{t.name}" for t in job_lineage(split_statements(SQL)).outputs if t.connector != "blackhole"
    }
    assert {uri for uri, _ in events} == outputs


def test_operator_declares_its_alias_outlet() -> None:
    op = FlinkBatchSqlOperator(task_id="load", sql=SQL)
    assert op.outlets == [AssetAlias(alias_name(None, "load"))]
