"""Which asset events a job's script yields: one per written data table, named like its OpenLineage dataset."""

from __future__ import annotations

from pathlib import Path

from airflow.sdk import Asset, AssetAlias
from conftest import load_dag

from airflow_provider_flinkbatch.assets import alias_name, asset_uri, sink_events
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


PARTITIONED = """
CREATE TEMPORARY TABLE landing (id BIGINT) WITH (
  'connector' = 'filesystem', 'path' = 'file:///data/landing/dt=2026-03-01/hr=07', 'format' = 'csv');
CREATE TEMPORARY TABLE daily (id BIGINT, dt STRING) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem', 'path' = 's3://lake/daily', 'format' = 'parquet');
CREATE TEMPORARY TABLE by_path (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '/data/by_path/dt=2026-03-01');
CREATE TEMPORARY TABLE dynamic (id BIGINT, dt STRING) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem', 'path' = '/data/dynamic');
INSERT INTO daily PARTITION (dt='2026-03-01') SELECT id FROM landing;
INSERT OVERWRITE by_path SELECT id FROM landing;
INSERT INTO dynamic SELECT id, '2026-03-01' FROM landing;
"""


def test_partition_from_a_static_partition_clause_or_the_path_is_in_the_extra_not_the_uri() -> None:
    events = dict(sink_events(split_statements(PARTITIONED), {"job_id": "b" * 32}))
    assert events["s3://lake/daily"]["partition"] == {"dt": "2026-03-01"}
    assert events["file:///data/by_path"]["partition"] == {"dt": "2026-03-01"}
    assert "partition" not in events["file:///data/dynamic"]  # filled from the rows: unknown before the run
    lineage = job_lineage(split_statements(PARTITIONED))
    # OpenLineage names the table, not the partition, too (same names as the assets)
    assert [(t.namespace, t.name, t.partition) for t in lineage.inputs] == [
        ("file", "/data/landing", {"dt": "2026-03-01", "hr": "07"})
    ]
    assert {asset_uri(t) for t in lineage.outputs} == set(events)


def test_sink_assets_narrow_the_events_and_may_name_the_asset() -> None:
    summary = {"job_id": "c" * 32}
    chosen = {"daily": "iceberg://lake/daily", "by_path": None}
    events = sink_events(split_statements(PARTITIONED), summary, chosen)
    assert [uri for uri, _ in events] == ["iceberg://lake/daily", "file:///data/by_path"]


def test_untemplated_sources_are_inlets_templated_ones_are_not() -> None:
    sql = PARTITIONED.replace("s3://lake/daily", "s3://lake/{{ params.table }}") + (
        "CREATE TEMPORARY TABLE other (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{{ params.p }}');\n"
        "INSERT INTO daily SELECT id FROM other;\n"
    )
    op = FlinkBatchSqlOperator(task_id="load", sql=sql)
    assert op.inlets == [Asset("file:///data/landing")]
    assert FlinkBatchSqlOperator(task_id="load_file", sql="job.sql").inlets == []


JOB_SQL = """
CREATE TEMPORARY TABLE orders (id BIGINT, dt STRING) PARTITIONED BY (dt) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.lake }}/orders', 'format' = 'csv');
CREATE TEMPORARY TABLE clicks (id BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.lake }}/clicks/{{ ds_nodash }}', 'format' = 'csv');
CREATE TEMPORARY TABLE rates (id BIGINT) WITH (
  'connector' = 'kafka', 'topic' = '{{ params.topic | upper }}', 'properties.bootstrap.servers' = 'broker:9092',
  'format' = 'json');
CREATE TEMPORARY TABLE totals (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '/lake/totals', 'format' = 'csv');
INSERT INTO totals SELECT o.id FROM orders o JOIN clicks c ON o.id = c.id JOIN rates r ON r.id = o.id
  WHERE o.dt = '{{ macros.ds_add(ds, -1) }}';
"""

JOB_DAG = """
from datetime import datetime
from airflow.sdk import DAG, Asset
from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

with DAG("templated_file_inlets", schedule=None, start_date=datetime(2026, 1, 1), params={"lake": "s3://lake"}):
    FlinkBatchSqlOperator(task_id="from_file", sql="job.sql", params={"topic": "fx"})
    FlinkBatchSqlOperator(task_id="given", sql="job.sql", inlets=[Asset("s3://elsewhere/given")])
    FlinkBatchSqlOperator(task_id="needs_a_run", sql="needs_run.sql")
"""


def test_a_templated_sql_file_declares_the_sources_of_the_rendered_script_as_inlets(
    airflow_db: None, tmp_path: Path
) -> None:
    """Parsed as the dag-processor parses it: the file is rendered with the DAG's Jinja environment (macros,
    filters) and the task's params; a source whose path changes per run (``clicks/{{ ds_nodash }}``) is no inlet."""
    (tmp_path / "job.sql").write_text(JOB_SQL)
    (tmp_path / "needs_run.sql").write_text(JOB_SQL.replace("{{ params.lake }}", "{{ dag_run.conf['lake'] }}"))
    (tmp_path / "templated_file_inlets.py").write_text(JOB_DAG)

    dag = load_dag("templated_file_inlets", tmp_path)

    assert dag.get_task("from_file").inlets == [Asset("s3://lake/orders"), Asset("kafka://broker:9092/FX")]
    assert dag.get_task("given").inlets == [Asset("s3://elsewhere/given")]  # given inlets win
    assert dag.get_task("needs_a_run").inlets == []  # dag_run.conf is only known in a run
    assert "{{ params.lake }}" in dag.get_task("from_file").sql  # the task still renders the file at run time
