"""A real Celeborn (master + worker built from its sources) behind the ``celeborn`` preset on the local cluster.

Opt-in (``pytest -m celeborn``, not part of the default run or CI): Celeborn is not on the Maven Central this
project reaches, and building it from source takes tens of minutes. Selected, they build Celeborn into the cache
first if it is not there (``python -m airflow_provider_flinkbatch.local.celeborn_build``), and a build that fails
fails them. They have not run yet: no Celeborn build has completed on this project's machine (docs/formats.md,
"Celeborn").
"""

from __future__ import annotations

import csv
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import make_request

from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose
from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterInfo
from airflow_provider_flinkbatch.local.celeborn_build import CelebornBuild, build, find_build
from airflow_provider_flinkbatch.local.celeborn_service import LocalCeleborn
from airflow_provider_flinkbatch.presets import PRESETS, apply_presets
from airflow_provider_flinkbatch.rest.client import FlinkRestClient
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobHandle

pytestmark = [pytest.mark.integration, pytest.mark.celeborn]
HERE = Path(__file__).parent
ROWS, CUSTOMERS = 200_000, 100


@pytest.fixture(scope="module")
def celeborn_build() -> CelebornBuild:
    return find_build() or build()


@pytest.fixture(scope="module")
def celeborn(celeborn_build: CelebornBuild, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCeleborn]:
    service = LocalCeleborn(celeborn_build, tmp_path_factory.mktemp("celeborn"))
    with service.start():
        yield service


@pytest.fixture(scope="module")
def celeborn_cluster(
    celeborn: LocalCeleborn, celeborn_build: CelebornBuild, tmp_path_factory: pytest.TempPathFactory, runner_jar: Any
) -> Iterator[LocalClusterInfo]:
    """A session cluster started as ``flinkbatch local up --preset celeborn --jar <client>`` starts one."""
    config = apply_presets(["celeborn"], {"celeborn.master.endpoints": celeborn.master_endpoint})
    cluster = LocalCluster(
        tmp_path_factory.mktemp("celeborn-cluster"), extra_config=config, jars=[celeborn_build.flink_client_jar]
    )
    info = cluster.up(timeout=180)
    try:
        yield info
    finally:
        cluster.down()


def _run(target: SessionTarget, sql: str, name: str, timeout: float = 240) -> tuple[JobHandle, dict[str, Any]]:
    handle = target.submit(make_request(sql, name, **{"parallelism.default": "2"}))
    deadline = time.monotonic() + timeout
    while (details := target.job_details(handle))["state"] not in ("FINISHED", "FAILED", "CANCELED"):
        assert time.monotonic() < deadline, f"job {handle.job_id} did not end within {timeout:.0f}s"
        time.sleep(0.5)
    return handle, details


def _diagnosis(target: SessionTarget, handle: JobHandle, details: dict[str, Any]) -> Diagnosis:
    return diagnose(handle.job_id, details, target.job_exceptions(handle), source="jobmanager")


def _shuffle_sql(out: Path) -> str:
    # orders: customer = id % 100, amount = id % 10 -> per customer 2000 orders summing to 2000 * (customer % 10);
    # the join and the GROUP BY each hash-shuffle by customer (broadcast joins off)
    return f"""
SET 'table.optimizer.join.broadcast-threshold' = '-1';
CREATE TEMPORARY TABLE ids (id BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '{ROWS}', 'fields.id.kind' = 'sequence',
  'fields.id.start' = '1', 'fields.id.end' = '{ROWS}');
CREATE TEMPORARY TABLE customer_ids (cid BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '{CUSTOMERS}', 'fields.cid.kind' = 'sequence',
  'fields.cid.start' = '0', 'fields.cid.end' = '{CUSTOMERS - 1}');
CREATE TEMPORARY TABLE totals (customer STRING, orders BIGINT, amount BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{out}', 'format' = 'csv');
INSERT INTO totals
SELECT c.name, COUNT(*), SUM(o.amount)
FROM (SELECT id % {CUSTOMERS} AS customer, id % 10 AS amount FROM ids) AS o
JOIN (SELECT cid, CONCAT('c', CAST(cid AS STRING)) AS name FROM customer_ids) AS c ON o.customer = c.cid
GROUP BY c.name;
"""


def _read_totals(out: Path) -> dict[str, tuple[int, int]]:
    rows: dict[str, tuple[int, int]] = {}
    for part in out.rglob("*"):
        if part.is_file() and not part.name.startswith("."):
            for name, orders, amount in csv.reader(part.read_text().splitlines()):
                rows[name] = (int(orders), int(amount))
    return rows


def test_the_preset_keys_are_options_of_the_built_client(celeborn_build: CelebornBuild, tmp_path: Path) -> None:
    """Every celeborn.* key the preset sets or requires is a client option of the client jar itself."""
    subprocess.run(["javac", "-nowarn", "-d", str(tmp_path), str(HERE.parent / "presets" / "ListCelebornKeys.java")],
                   check=True)  # fmt: skip
    listed = subprocess.run(
        ["java", "-cp", f"{tmp_path}:{celeborn_build.flink_client_jar}", "ListCelebornKeys"],
        capture_output=True,
        text=True,
        check=True,
    )
    options = {line.split("\t")[0]: line.split("\t")[1:] for line in listed.stdout.splitlines()}
    assert len(options) > 300 and "celeborn.client.push.buffer.max.size" in options  # the reader works at all
    preset = PRESETS["celeborn"]
    keys = sorted(key for key in [*preset.config, *preset.required] if key.startswith("celeborn."))
    assert keys and [key for key in keys if key not in options] == []
    assert [key for key in keys if "client" not in options[key][0].split(",")] == []


def test_a_shuffle_heavy_job_shuffles_through_celeborn(
    celeborn: LocalCeleborn, celeborn_cluster: LocalClusterInfo, tmp_path: Path
) -> None:
    rest = FlinkRestClient(FlinkConnectionSettings(rest_url=celeborn_cluster.rest_url))
    target = SessionTarget(rest, "celeborn")
    before = celeborn.worker_metrics()
    out = tmp_path / "totals"
    handle, details = _run(target, _shuffle_sql(out), "celeborn.shuffle")
    assert details["state"] == "FINISHED", _diagnosis(target, handle, details).describe()
    after = celeborn.worker_metrics()

    # the result is right: 100 customers, 2000 orders each, amounts summing to 2000 * (customer % 10)
    expected = {f"c{c}": (ROWS // CUSTOMERS, ROWS // CUSTOMERS * (c % 10)) for c in range(CUSTOMERS)}
    assert _read_totals(out) == expected
    # parallelism 2 and blocking exchanges: each exchange a hash shuffle between stages
    plan = requests.get(f"{celeborn_cluster.rest_url}/jobs/{handle.job_id}/plan", timeout=10).json()["plan"]
    exchanges = [edge for node in plan["nodes"] for edge in node.get("inputs", [])]
    assert {edge["exchange"] for edge in exchanges} == {"blocking"}
    assert sum(edge["ship_strategy"] == "HASH" for edge in exchanges) >= 3
    assert max(vertex["parallelism"] for vertex in details["vertices"]) == 2

    # Celeborn saw it: the job is one of the master's applications, and the worker took pushed data
    growth = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    print("\nCeleborn worker metrics that grew:", {k: v for k, v in sorted(growth.items()) if v > 0})
    pushed = [name for name in growth if "PushData" in name and name.endswith("Count") and growth[name] > 0]
    assert pushed, f"the worker's push counters did not grow: {sorted(after)}"
    # Flink's side: the TaskManager's shuffle environment is Celeborn's (Shuffle.Remote), not Netty's
    url = celeborn_cluster.rest_url
    taskmanager = requests.get(f"{url}/taskmanagers", timeout=10).json()["taskmanagers"][0]["id"]
    names = {metric["id"] for metric in requests.get(f"{url}/taskmanagers/{taskmanager}/metrics", timeout=10).json()}
    assert "Status.Shuffle.Remote.TotalMemorySegments" in names
    assert not [name for name in names if name.startswith("Status.Shuffle.Netty")]


def test_without_a_master_the_job_fails_fast_as_shuffle_service_unavailable(
    celeborn: LocalCeleborn, celeborn_cluster: LocalClusterInfo, tmp_path: Path
) -> None:
    """Last in this module: it stops the Celeborn master and worker under the running cluster."""
    celeborn.stop()
    target = SessionTarget(FlinkRestClient(FlinkConnectionSettings(rest_url=celeborn_cluster.rest_url)), "celeborn")
    started = time.monotonic()
    handle, details = _run(target, _shuffle_sql(tmp_path / "out"), "celeborn.no-master", timeout=300)
    took = time.monotonic() - started
    diagnosis = _diagnosis(target, handle, details)
    print(f"\nwithout a master the job ended {details['state']} after {took:.1f}s:\n{diagnosis.describe()}")
    assert details["state"] == "FAILED"
    assert diagnosis.category == "shuffle_service_unavailable" and not diagnosis.retryable
    assert "celeborn.master.endpoints" in diagnosis.advice
