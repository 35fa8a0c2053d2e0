"""The Maven-resolved jar cache: what ``scripts/test.sh`` filled, and what a user sees when it cannot be filled."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_flinkbatch.local.jars import JarResolutionError, connector_jars, resolve_set


def test_each_name_brings_its_jars_from_the_cache() -> None:
    assert [jar.name for jar in connector_jars(["parquet"])] == [
        "flink-sql-parquet-2.3.0.jar",
        "hadoop-client-api-3.4.1.jar",
        "hadoop-client-runtime-3.4.1.jar",
    ]
    assert [jar.name for jar in connector_jars(["kafka", "avro"])] == [
        "flink-sql-avro-2.3.0.jar",
        "flink-sql-connector-kafka-5.0.0-2.2.jar",
    ]
    broker = {jar.name for jar in resolve_set("kafka-broker")}
    assert {"kafka_2.13-4.1.1.jar", "kafka-clients-4.1.1.jar", "log4j-slf4j-impl-2.24.3.jar"} <= broker
    with pytest.raises(ValueError, match=r"unknown connector/format jar\(s\) \['orc'\]; known: parquet, avro, kafka"):
        connector_jars(["orc"])


def test_an_empty_cache_without_maven_says_how_to_fill_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLINKBATCH_JAR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn on it
    with pytest.raises(JarResolutionError, match=r"mvn not found: the connectors jars are resolved from Maven Central"):
        connector_jars(["avro"])
