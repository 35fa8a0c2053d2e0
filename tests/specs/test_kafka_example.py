"""The Kafka -> Parquet example specs (``example_dags/specs/kafka``) on real components.

A real KRaft broker holds Avro-valued events of three topics, some outside the day; the spec DAG runs on the
local Flink cluster (Kafka, Avro and Parquet jars from Maven Central) and the Parquet it wrote is read back
with pyarrow. The same specs' ``flinkbatch test`` cases swap Kafka for fixture rows and need no broker.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import RunDag, xcom_value
from real_components import create_topics, produce_avro
from spec_helpers import EXAMPLE_SPECS, EXAMPLES

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterInfo
from airflow_provider_flinkbatch.local.kafka import KafkaBroker

pytestmark = pytest.mark.integration

KAFKA_SPECS = EXAMPLE_SPECS / "kafka"
DAY = datetime(2026, 3, 1, tzinfo=UTC)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _at(hours: float) -> int:
    """Milliseconds of DAY + hours (negative: the day before)."""
    return _ms(DAY + timedelta(hours=hours))


PAGE_VIEWS = [
    (
        _at(-0.001),
        {"event_id": "p0", "user_id": 9, "page": "/late", "referrer": None, "device": {"os": "a", "browser": "b"}},
    ),
    (
        _at(8),
        {
            "event_id": "p1",
            "user_id": 1,
            "page": "/home",
            "referrer": None,
            "device": {"os": "linux", "browser": "firefox"},
        },
    ),
    (
        _at(9.5),
        {
            "event_id": "p2",
            "user_id": 2,
            "page": "/cart",
            "referrer": "/home",
            "device": {"os": "ios", "browser": "safari"},
        },
    ),
    (
        _at(23.99),
        {
            "event_id": "p3",
            "user_id": 1,
            "page": "/pay",
            "referrer": "/cart",
            "device": {"os": "linux", "browser": "firefox"},
        },
    ),
    (
        _at(24),
        {"event_id": "p4", "user_id": 3, "page": "/next-day", "referrer": None, "device": {"os": "x", "browser": "y"}},
    ),
]
PURCHASES = [
    (_at(10), {"order_id": "o1", "user_id": 1, "amount_cents": 1999, "currency": "eur", "coupon": None}),
    (_at(11), {"order_id": "o2", "user_id": 2, "amount_cents": 50, "currency": "usd", "coupon": "SPRING"}),
    (_at(30), {"order_id": "o3", "user_id": 2, "amount_cents": 70, "currency": "usd", "coupon": None}),
]
SEARCHES = [
    (_at(1), {"event_id": "s1", "user_id": 1, "query": "  Flink Batch ", "results": 12}),
    (_at(2), {"event_id": "s2", "user_id": 2, "query": "broken", "results": -1}),
]


@pytest.fixture(scope="module")
def topics(kafka_broker: KafkaBroker) -> KafkaBroker:
    create_topics(kafka_broker, "page_views", "purchases", "searches")
    schemas = KAFKA_SPECS / "schemas"
    produce_avro(kafka_broker, "page_views", schemas / "page_view.avsc", PAGE_VIEWS)
    produce_avro(kafka_broker, "purchases", schemas / "purchase.avsc", PURCHASES)
    produce_avro(kafka_broker, "searches", schemas / "search.avsc", SEARCHES)
    return kafka_broker


def _read_parquet(root: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows = pq.read_table(root, partitioning="hive").to_pylist()
    return sorted(({**row, "dt": str(row["dt"])} for row in rows), key=lambda row: str(next(iter(row.values()))))


def _naive(hours: float) -> datetime:
    return (DAY + timedelta(hours=hours)).replace(tzinfo=None)


def test_spec_dag_reads_one_day_of_avro_topics_into_parquet_partitions(
    run_dag: RunDag, topics: KafkaBroker, data_dir: Path, flink_cluster: LocalClusterInfo
) -> None:
    dag_run, tis = run_dag("events_kafka_daily", EXAMPLES, DAY, bootstrap_servers=topics.bootstrap_servers)

    assert {task: ti.state for task, ti in tis.items()} == {
        "ingest_page_views": "success",
        "ingest_purchases": "success",
        "ingest_searches": "success",
    }
    # the summary names each Kafka source by its table (not by Flink's "KafkaSource-<catalog>.<db>.<table>")
    summary = xcom_value(dag_run, "ingest_page_views")
    assert [(c["table"], c["rows"]) for c in summary["sources"]] == [("page_views_raw", 3)], summary["sources"]
    warehouse = data_dir / "warehouse"
    assert [p.name for p in sorted((warehouse / "page_views").iterdir()) if not p.name.startswith(".")] == [
        "dt=2026-03-01"
    ]
    assert _read_parquet(warehouse / "page_views") == [
        {"event_id": "p1", "user_id": 1, "page": "/home", "referrer": None,
         "device": {"os": "linux", "browser": "firefox"}, "event_time": _naive(8), "dt": "2026-03-01"},
        {"event_id": "p2", "user_id": 2, "page": "/cart", "referrer": "/home",
         "device": {"os": "ios", "browser": "safari"}, "event_time": _naive(9.5), "dt": "2026-03-01"},
        {"event_id": "p3", "user_id": 1, "page": "/pay", "referrer": "/cart",
         "device": {"os": "linux", "browser": "firefox"}, "event_time": _naive(23.99), "dt": "2026-03-01"},
    ]  # fmt: skip
    assert _read_parquet(warehouse / "purchases") == [
        {"order_id": "o1", "user_id": 1, "amount": Decimal("19.99"), "currency": "EUR", "coupon": None,
         "event_time": _naive(10), "dt": "2026-03-01"},
        {"order_id": "o2", "user_id": 2, "amount": Decimal("0.50"), "currency": "USD", "coupon": "SPRING",
         "event_time": _naive(11), "dt": "2026-03-01"},
    ]  # fmt: skip
    assert _read_parquet(warehouse / "searches") == [
        {"event_id": "s1", "user_id": 1, "query": "flink batch", "results": 12, "event_time": _naive(1),
         "dt": "2026-03-01"},
    ]  # fmt: skip


def test_flinkbatch_test_swaps_kafka_for_fixture_rows(
    flink_cluster: LocalClusterInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["test", str(KAFKA_SPECS), "--rest-url", flink_cluster.rest_url]) == 0
    out = [re.sub(r"\(job [0-9a-f]{32}, [\d.]+s\)", "(job …)", line) for line in capsys.readouterr().out.splitlines()]
    assert out == [
        "PASS ingest_page_views::copies_the_day (job …)",
        "PASS ingest_purchases::converts_cents (job …)",
        "PASS ingest_searches::normalizes_queries (job …)",
        "3 passed, 0 failed",
    ]


def test_a_topic_that_does_not_exist_fails_with_its_name(
    run_dag: RunDag, topics: KafkaBroker, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "specs"
    shutil.copytree(EXAMPLES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    sql = folder / "specs" / "kafka" / "sql" / "ingest_searches.sql"
    sql.write_text(sql.read_text().replace("'topic'                         = 'searches'", "'topic' = 'serches'"))
    _, tis = run_dag("events_kafka_daily", folder, DAY, bootstrap_servers=topics.bootstrap_servers)

    assert tis["ingest_searches"].state == "failed"
    assert tis["ingest_searches"].try_number == 1  # a missing topic does not appear by retrying
    log = capfd.readouterr().out
    failure = next(line for line in log.splitlines() if "AirflowFailException" in line and "serches" in line)
    assert "[missing_source]: " in failure and "UnknownTopicOrPartitionException" in failure, failure
    assert "Kafka topic 'serches' does not exist on the brokers of 'properties.bootstrap.servers'" in failure
    assert "retried: no, this failure is not retried" in failure
    assert "create the topic or fix the table's 'topic' option" in failure


@pytest.fixture(scope="module")
def cluster_without_jars(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalClusterInfo]:
    """A second session cluster with Flink's own lib/ only (csv, json, filesystem...)."""
    cluster = LocalCluster(tmp_path_factory.mktemp("flink-no-jars"))
    info = cluster.up(timeout=180)
    try:
        yield info
    finally:
        cluster.down()


def test_a_cluster_without_the_jars_fails_before_submission_naming_them(
    run_dag: RunDag,
    cluster_without_jars: LocalClusterInfo,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", cluster_without_jars.connection_uri_json())
    _, tis = run_dag("events_kafka_daily", EXAMPLES, DAY, bootstrap_servers="127.0.0.1:9")

    assert {ti.state for ti in tis.values()} == {"failed"}
    assert all(ti.try_number == 1 for ti in tis.values())  # retrying cannot add a jar
    import requests

    assert requests.get(f"{cluster_without_jars.rest_url}/jobs/overview", timeout=5).json()["jobs"] == []
    log = capfd.readouterr().out
    failure = next(line for line in log.splitlines() if "AirflowFailException" in line and "page_views_raw" in line)
    assert (
        f"table page_views_raw: 'connector' = 'kafka' needs org.apache.flink:flink-sql-connector-kafka, which the "
        f"session cluster at {cluster_without_jars.rest_url} does not have" in failure
    ), failure
    assert "'value.format' = 'avro' needs org.apache.flink:flink-sql-avro" in failure
    assert "'format' = 'parquet' needs org.apache.flink:flink-sql-parquet" in failure
    assert "Add it: `flinkbatch local up --with avro,kafka,parquet`" in failure
