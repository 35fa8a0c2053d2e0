"""Which connector/format jars a script needs, and the message when a cluster lacks them."""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.sql.factories import (
    jars_on_classpath,
    missing_jar_message,
    needed_jars,
    parse_with,
    requirements,
)
from airflow_provider_flinkbatch.sql.statements import split_statements

SCRIPT = split_statements(
    """
CREATE TEMPORARY TABLE events (id BIGINT) WITH (
  'connector' = 'kafka', 'topic' = 't', 'key.format' = 'raw', 'value.format' = 'avro');
CREATE TABLE daily (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '/x', 'format' = 'parquet');
CREATE TABLE side (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '/y', 'format' = 'csv');
CREATE TABLE other (id BIGINT) WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://db/x');
INSERT INTO daily SELECT id FROM events;
"""
)


def test_requirements_come_from_connector_and_format_options() -> None:
    found = {(r.table, r.option, r.identifier) for r in requirements(SCRIPT)}
    assert found == {
        ("events", "connector", "kafka"),
        ("events", "value.format", "avro"),
        ("daily", "format", "parquet"),
        ("other", "connector", "jdbc"),  # not one of ours: Flink judges it
    }
    assert needed_jars(SCRIPT) == ["avro", "kafka", "parquet"]


def test_classpath_entries_name_the_jars() -> None:
    classpath = [
        "/opt/flink/lib/flink-dist-2.3.0.jar",
        "/cache/connectors-1/flink-sql-parquet-2.3.0.jar",
        "/cache/connectors-1/flink-sql-connector-kafka-5.0.0-2.2.jar",
    ]
    assert jars_on_classpath(classpath) == {"parquet", "kafka"}


def test_missing_jar_message_names_table_option_artifact_and_fix() -> None:
    message = missing_jar_message(SCRIPT, {"kafka"}, "the session cluster at http://f:8081")
    assert message == (
        "table events: 'value.format' = 'avro' needs org.apache.flink:flink-sql-avro, which the session cluster at "
        "http://f:8081 does not have; table daily: 'format' = 'parquet' needs org.apache.flink:flink-sql-parquet, "
        "which the session cluster at http://f:8081 does not have. Add it: `flinkbatch local up --with avro,parquet` "
        "for the local cluster, or put the jar into the cluster's lib/ folder (Kubernetes: the image; YARN: "
        "yarn.ship-files) and restart it"
    )
    assert missing_jar_message(SCRIPT, {"kafka", "avro", "parquet"}, "x") is None


def test_with_values_are_checked() -> None:
    assert parse_with(["parquet,avro", "kafka"]) == ["avro", "kafka", "parquet"]
    with pytest.raises(ValueError, match=r"--with orc: unknown jar; choose from parquet, avro, kafka"):
        parse_with("orc")
