"""Presets: real Flink option names, user keys win, required Celeborn settings, and a real job using them."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import RunDag, flink_jobs_named, make_request

from airflow_provider_flinkbatch.distribution import find_flink_distribution
from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterInfo
from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.presets import CELEBORN_CLIENT_KEYS, PRESETS, PresetError, apply_presets
from airflow_provider_flinkbatch.rest.client import FlinkRestClient
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def flink_option_keys(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Every ConfigOption key declared in the Flink 2.3 jars (read by reflection, not from a copied list)."""
    distribution = find_flink_distribution()
    classes = tmp_path_factory.mktemp("options")
    classpath = str(distribution.lib_dir / "*")
    subprocess.run(
        ["javac", "-nowarn", "-cp", classpath, "-d", str(classes), str(HERE / "ListConfigOptions.java")], check=True
    )
    jars = sorted(str(jar) for jar in distribution.lib_dir.glob("*.jar"))
    listed = subprocess.run(
        ["java", "-cp", f"{classes}:{classpath}", "ListConfigOptions", *jars],
        capture_output=True,
        text=True,
        check=True,
    )
    keys = set(listed.stdout.split())
    assert "execution.runtime-mode" in keys and len(keys) > 500  # the reader works at all
    return keys


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_key_is_a_real_option(name: str, flink_option_keys: set[str]) -> None:
    preset = PRESETS[name]
    unknown = [key for key in [*preset.config, *preset.required] if key not in flink_option_keys | CELEBORN_CLIENT_KEYS]
    assert unknown == [], f"preset {name!r} uses keys Flink 2.3 does not define: {unknown}"


def test_user_config_wins_over_presets_and_the_override_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="airflow_provider_flinkbatch.presets"):
        merged = apply_presets(
            ["blocking-shuffle", "hybrid-shuffle", "adaptive-batch"],
            {"execution.batch.adaptive.auto-parallelism.max-parallelism": 4},
        )
    assert merged["execution.batch-shuffle-mode"] == "ALL_EXCHANGES_HYBRID_FULL"  # the later preset
    assert merged["execution.batch.adaptive.auto-parallelism.max-parallelism"] == 4  # the user's value
    assert merged["jobmanager.scheduler"] == "AdaptiveBatch"
    assert "overriding preset 'adaptive-batch' (128)" in caplog.text
    assert "preset 'hybrid-shuffle' sets execution.batch-shuffle-mode" in caplog.text


def test_celeborn_needs_valid_master_endpoints() -> None:
    with pytest.raises(PresetError, match=r"preset 'celeborn' needs celeborn.master.endpoints in flink_config"):
        apply_presets(["celeborn"], {})
    with pytest.raises(PresetError, match=r"expected host:port\[,host:port...\], got 'celeborn-master'"):
        apply_presets(["celeborn"], {"celeborn.master.endpoints": "celeborn-master"})
    merged = apply_presets(["celeborn"], {"celeborn.master.endpoints": "m-0.celeborn:9097,m-1.celeborn:9097"})
    assert merged["shuffle-service-factory.class"] == "org.apache.celeborn.plugin.flink.RemoteShuffleServiceFactory"


def test_unknown_preset_fails_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match=r"unknown preset\(s\) \['adaptive'\]; known presets: \['adaptive-batch'"):
        FlinkBatchSqlOperator(task_id="t", sql="INSERT INTO t SELECT 1", presets=["adaptive"])


@pytest.mark.integration
def test_missing_celeborn_endpoints_fail_the_task_without_retries_or_a_job(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, capfd: pytest.CaptureFixture[str]
) -> None:
    _, tis = run_dag("it_preset_missing_endpoints")
    assert tis["celeborn"].state == "failed" and tis["celeborn"].try_number == 1
    assert "preset 'celeborn' needs celeborn.master.endpoints" in capfd.readouterr().out
    assert flink_jobs_named(flink_cluster.rest_url, "it.preset.missing") == []


@pytest.fixture(scope="module")
def preset_cluster(tmp_path_factory: pytest.TempPathFactory, runner_jar: object) -> Iterator[LocalClusterInfo]:
    """A second real cluster started with cluster-level presets, as application mode (or
    ``flinkbatch local up --preset``) would start one."""
    config = apply_presets(
        ["adaptive-batch", "hybrid-shuffle"],
        {
            "execution.batch.adaptive.auto-parallelism.min-parallelism": "2",
            "execution.batch.adaptive.auto-parallelism.default-source-parallelism": "2",
        },
    )
    cluster = LocalCluster(tmp_path_factory.mktemp("preset-cluster"), extra_config=config)
    info = cluster.up(timeout=180)
    try:
        yield info
    finally:
        cluster.down()


@pytest.mark.integration
def test_cluster_level_presets_change_how_the_real_job_runs(preset_cluster: LocalClusterInfo) -> None:
    target = SessionTarget(FlinkRestClient(FlinkConnectionSettings(rest_url=preset_cluster.rest_url)), "presets")
    sql = """CREATE TEMPORARY TABLE s (x INT, c BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO s SELECT x, COUNT(*) FROM (VALUES (1), (2), (2)) AS t(x) GROUP BY x;"""
    handle = target.submit(make_request(sql, "presets.cluster"))
    deadline = time.monotonic() + 120
    while (details := target.job_details(handle))["state"] not in ("FINISHED", "FAILED"):
        assert time.monotonic() < deadline, "job did not finish"
        time.sleep(0.5)
    assert details["state"] == "FINISHED"
    plan = requests.get(f"{preset_cluster.rest_url}/jobs/{handle.job_id}/plan", timeout=10).json()["plan"]
    exchanges = {edge["exchange"] for node in plan["nodes"] for edge in node.get("inputs", [])}
    assert exchanges == {"hybrid_full"}  # hybrid-shuffle: not the default blocking exchange
    # adaptive-batch: the scheduler chose the aggregation's parallelism (min 2); the Values source is 1
    parallelism = {v["name"].split("[")[0]: v["parallelism"] for v in details["vertices"]}
    assert parallelism == {"Source: Values": 1, "Sort": 2}
