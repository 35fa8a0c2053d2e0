"""OpenLineage datasets of a real run: what Airflow's OpenLineage listener gets from the operator."""

from __future__ import annotations

from pathlib import Path

from conftest import load_dag

from airflow_provider_flinkbatch.lineage import dataset_for, job_lineage
from airflow_provider_flinkbatch.sql.statements import split_statements


def test_datasets_follow_openlineage_naming_per_connector() -> None:
    assert dataset_for("t", {"connector": "filesystem", "path": "s3://lake/raw/orders"}) == ("s3://lake", "raw/orders")
    assert dataset_for("t", {"connector": "filesystem", "path": "/data/in.csv"}) == ("file", "/data/in.csv")
    kafka = {"connector": "kafka", "topic": "clicks", "properties.bootstrap.servers": "b1:9092,b2:9092"}
    assert dataset_for("t", kafka) == ("kafka://b1:9092", "clicks")
    jdbc = {"connector": "jdbc", "url": "jdbc:postgresql://db:5432/shop?ssl=true", "table-name": "public.orders"}
    assert dataset_for("t", jdbc) == ("postgresql://db:5432/shop", "public.orders")
    assert dataset_for("t", {"connector": "datagen"}) == ("flink://datagen", "t")


def test_script_lineage_inputs_outputs_and_columns() -> None:
    script = """
CREATE TEMPORARY TABLE orders (id BIGINT, amount DECIMAL(10, 2), PRIMARY KEY (id) NOT ENFORCED,
  total AS amount * 2) WITH ('connector' = 'filesystem', 'path' = 's3://lake/orders', 'format' = 'json');
CREATE TABLE customers (id BIGINT, name STRING) WITH ('connector' = 'jdbc',
  'url' = 'jdbc:mysql://crm:3306/crm', 'table-name' = 'customers');
CREATE TEMPORARY TABLE report (name STRING, amount DECIMAL(10, 2)) WITH ('connector' = 'filesystem',
  'path' = 'file:///out/report', 'format' = 'csv');
INSERT INTO report SELECT c.name, o.amount FROM orders o JOIN customers c ON o.id = c.id;
"""
    lineage = job_lineage(split_statements(script))
    assert [(t.namespace, t.name) for t in lineage.inputs] == [
        ("s3://lake", "orders"),
        ("mysql://crm:3306/crm", "customers"),
    ]
    assert [(t.namespace, t.name) for t in lineage.outputs] == [("file", "/out/report")]
    assert lineage.inputs[0].columns == [("id", "BIGINT"), ("amount", "DECIMAL(10, 2)")]  # no key, no computed


def test_operator_reports_lineage_of_the_rendered_sql(airflow_db: None, tmp_path: Path) -> None:
    data_dir = tmp_path
    task = load_dag("it_multi_statement").get_task("blocking")
    task.render_template_fields({"params": {"data_dir": str(data_dir)}})
    facets = task.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in facets.inputs] == [("file", f"{data_dir}/input/orders.csv")]
    assert sorted(d.name for d in facets.outputs) == [f"{data_dir}/out_blocking/big", f"{data_dir}/out_blocking/totals"]
    schema = facets.inputs[0].facets["schema"]
    assert [field.name for field in schema.fields] == ["order_id", "country", "amount", "note"]
