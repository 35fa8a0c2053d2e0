"""Session fixtures for the real Java components besides Flink: connector jars and a Kafka broker.

Both come from Maven Central through the jar cache (``airflow_provider_flinkbatch/local/jars.py``), which
``scripts/test.sh`` fills before pytest starts. Under ``CI=true`` a jar that cannot be resolved or a broker
that cannot start fails the run; elsewhere the tests that need them skip and say why.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flinkbatch.local.jars import JarResolutionError, connector_jars
from airflow_provider_flinkbatch.local.kafka import KafkaBroker, KafkaBrokerError


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def cluster_jars() -> tuple[list[Path], str | None]:
    """The connector/format jars for the session cluster, or ``([], why)`` outside CI when unresolvable."""
    try:
        return connector_jars(), None
    except JarResolutionError as err:
        if in_ci():
            raise
        return [], str(err)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """One real KRaft broker for the whole session, on free loopback ports."""
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        broker.start()
    except (JarResolutionError, KafkaBrokerError) as err:
        if in_ci():
            raise
        pytest.skip(f"no Kafka broker: {err}")
    try:
        yield broker
    finally:
        broker.stop()


def create_topics(broker: KafkaBroker, *names: str, partitions: int = 1) -> None:
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap_servers, client_id="flinkbatch-tests")
    try:
        admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        admin.close()


def produce_avro(broker: KafkaBroker, topic: str, schema_file: Path, events: list[tuple[int, dict[str, Any]]]) -> None:
    """Send ``(timestamp_ms, record)`` pairs as schemaless Avro values (what Flink's ``avro`` format reads)."""
    import fastavro
    from kafka import KafkaProducer

    schema = fastavro.schema.load_schema(str(schema_file))
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    try:
        for timestamp_ms, record in events:
            buffer = io.BytesIO()
            fastavro.schemaless_writer(buffer, schema, record)
            producer.send(topic, value=buffer.getvalue(), timestamp_ms=timestamp_ms)
        producer.flush(timeout=30)
    finally:
        producer.close()
