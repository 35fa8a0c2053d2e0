"""Specs + defaults -> the objects the DAG processor sees: DAGs, tasks, operator arguments, dependencies."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from spec_helpers import EXAMPLE_SPECS, EXAMPLES, spec_folder, write_tree

from airflow_provider_flinkbatch.specs.effective import effective_flink_config, render_sql
from airflow_provider_flinkbatch.specs.factory import SPEC_ERROR_TAG, build_dags
from airflow_provider_flinkbatch.specs.load import load_specs

GOOD = "sql: sql/clicks.sql\nparams: {base: /tmp/x}\n"


def test_example_specs_inherit_the_shared_defaults() -> None:
    specs = load_specs(EXAMPLE_SPECS)
    assert specs.errors == []
    assert [spec.name for spec in specs.specs] == [
        "ingest_clicks",
        "ingest_orders",
        "ingest_signups",
        "country_report",  # assets/: two DAGs chained by an asset
        "orders_by_day",
        "ingest_page_views",  # kafka/: its own defaults.yaml adds to the outer one
        "ingest_purchases",
        "ingest_searches",
    ]
    kafka = [spec for spec in specs.specs if spec.path.parent.name == "kafka"]
    assert {(spec.owner, spec.dag, spec.retries) for spec in kafka} == {("data-platform", "events_kafka_daily", 2)}
    assert {effective_flink_config(spec)["table.local-time-zone"] for spec in kafka} == {"UTC"}
    for spec in specs.specs[:3]:
        assert (spec.owner, spec.dag, spec.schedule, spec.retries) == ("data-platform", "events_daily", "@daily", 2)
        assert spec.retry_delay == timedelta(minutes=2)
        assert effective_flink_config(spec) == {
            "parallelism.default": "2",
            "table.exec.sink.not-null-enforcer": "ERROR",
        }
    assert "'path'      = '/tmp/flinkbatch-specs-example/landing/orders/2026-01-01'" in render_sql(specs.specs[1])


def test_nested_defaults_merge_mappings_and_replace_lists(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "jobs/defaults.yaml": """\
                owner: platform
                tags: [base]
                flink_config: {table.exec.sink.not-null-enforcer: DROP, parallelism.default: 2}
                presets: [blocking-shuffle]
            """,
            "jobs/team_a/defaults.yaml": """\
                owner: team-a
                tags: [team-a]
                flink_config: {parallelism.default: 4}
            """,
            "jobs/team_a/clicks.yaml": "sql: ../sql/clicks.sql\nparams: {base: /tmp/x}\nflink_config: {pipeline.name: x}\n",
            "jobs/sql/clicks.sql": "INSERT INTO t SELECT 1;",
        },
    )
    specs = load_specs(tmp_path / "jobs")
    assert specs.errors == []
    (spec,) = specs.specs
    assert (spec.owner, spec.tags) == ("team-a", ["team-a"])
    assert effective_flink_config(spec) == {
        "execution.batch-shuffle-mode": "ALL_EXCHANGES_BLOCKING",  # from the preset
        "table.exec.sink.not-null-enforcer": "DROP",  # outer defaults
        "parallelism.default": "4",  # inner defaults win over outer
        "pipeline.name": "x",  # the spec's own key
    }
    # one file on its own still gets every defaults.yaml above it
    (alone,) = load_specs(tmp_path / "jobs" / "team_a" / "clicks.yaml").specs
    assert alone.owner == "team-a" and effective_flink_config(alone)["table.exec.sink.not-null-enforcer"] == "DROP"


def test_edited_spec_is_picked_up_and_unchanged_spec_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLINKBATCH_HOME", str(tmp_path / "home"))
    folder = spec_folder(tmp_path, {"clicks.yaml": GOOD + "retries: 1\n"})
    spec_file = folder / "clicks.yaml"
    assert load_specs(folder).specs[0].retries == 1
    assert list((tmp_path / "home" / "spec-cache").glob("*.json"))

    spec_file.write_text(GOOD + "retries: 3\n")  # an edit: new mtime
    os.utime(spec_file, ns=(spec_file.stat().st_atime_ns, spec_file.stat().st_mtime_ns + 10_000_000))
    assert load_specs(folder).specs[0].retries == 3

    # Same size and mtime as the cached version: the YAML is not parsed again (that is the cache).
    stamp = spec_file.stat()
    spec_file.write_text(GOOD + "retries: 7\n")
    os.utime(spec_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert load_specs(folder).specs[0].retries == 3
    monkeypatch.setenv("FLINKBATCH_SPEC_CACHE", "off")
    assert load_specs(folder).specs[0].retries == 7


def test_dag_bag_builds_the_example_dag_from_the_two_line_file() -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag_file = EXAMPLES / "flink_batch_specs.py"
    assert len([line for line in dag_file.read_text().splitlines() if line.strip()]) == 2  # import + call
    bag = DagBag(dag_folder=str(dag_file), safe_mode=True)
    assert bag.import_errors == {}
    dag = bag.dags.get("events_daily")
    assert dag is not None and set(bag.dag_ids) == {
        "events_daily",
        "events_kafka_daily",
        "orders_by_day",
        "country_report",
    }
    assert {task.task_id for task in dag.tasks} == {"ingest_clicks", "ingest_orders", "ingest_signups"}
    assert set(dag.tags) == {"example", "ingestion", "flinkbatch-spec"}
    clicks: Any = dag.get_task("ingest_clicks")
    assert type(clicks).__name__ == "FlinkBatchSqlOperator"
    assert "CREATE TEMPORARY TABLE clicks_raw" in clicks.sql and "{{ params.data_dir }}" in clicks.sql
    assert clicks.flink_config == {"parallelism.default": 2, "table.exec.sink.not-null-enforcer": "ERROR"}
    assert (clicks.retries, clicks.retry_delay, clicks.execution_timeout) == (
        2,
        timedelta(minutes=2),
        timedelta(hours=1),
    )
    assert (clicks.owner, clicks.deferrable, clicks.poll_interval, clicks.job_name) == (
        "data-platform",
        True,
        1.0,
        "events_daily.ingest_clicks",
    )
    assert clicks.params["data_dir"] == "/tmp/flinkbatch-specs-example"


def test_groups_and_dependencies_become_dags_and_edges(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path,
        {
            "extract.yaml": GOOD + "dag: nightly\n",
            "enrich.yaml": GOOD + "dag: nightly\ndepends_on: [extract]\n",
            "publish.yaml": GOOD + "dag: nightly\ndepends_on: [enrich, extract]\n",
            "solo.yaml": GOOD + "schedule: '@hourly'\nstart_date: 2026-02-01\n",
        },
    )
    namespace: dict[str, object] = {}
    dags = build_dags(folder, namespace)
    assert sorted(dags) == ["nightly", "solo"]
    nightly = dags["nightly"]
    assert nightly.get_task("enrich").upstream_task_ids == {"extract"}
    assert nightly.get_task("publish").upstream_task_ids == {"enrich", "extract"}
    assert nightly.get_task("extract").downstream_task_ids == {"enrich", "publish"}
    assert dags["solo"].schedule == "@hourly"
    assert set(namespace.values()) == set(dags.values())  # module globals: what the DAG processor collects


def test_broken_spec_becomes_a_placeholder_dag_that_says_why(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path,
        {"good.yaml": GOOD, "broken.yaml": GOOD + "flink_config: {parallelism.default: eight}\n"},
    )
    dags = build_dags(folder)
    assert sorted(dags) == ["broken", "good"]
    broken = dags["broken"]
    assert set(broken.tags) == {SPEC_ERROR_TAG}
    assert broken.schedule is None
    assert "flink_config.parallelism.default: expected int, got 'eight'" in (broken.description or "")
    with pytest.raises(ValueError, match=r"jobs/broken.yaml: flink_config.parallelism.default: expected int"):
        task: Any = broken.get_task("spec_error")
        task.python_callable()
    assert build_dags(folder, on_error="skip").keys() == {"good"}
    with pytest.raises(ValueError, match="expected int, got 'eight'"):
        build_dags(folder, on_error="raise")


def test_missing_sql_file_breaks_only_its_dag(tmp_path: Path) -> None:
    folder = spec_folder(tmp_path, {"good.yaml": GOOD, "lost.yaml": "sql: sql/missing.sql\n"})
    dags = build_dags(folder)
    assert sorted(dags) == ["good", "lost"]
    assert dags["lost"].description == (
        "BROKEN SPEC: jobs/lost.yaml: sql[0]: sql/missing.sql: no such file (paths are relative to lost.yaml)"
    )


def test_dag_file_imports_nothing_heavy() -> None:
    """What the dag-processor loads for a spec folder: no fastavro, no Flink tooling, no test harness."""
    import subprocess
    import sys

    code = (
        "import sys, airflow.sdk\n"
        "from airflow_provider_flinkbatch.specs import build_dags\n"
        f"assert build_dags({str(EXAMPLE_SPECS)!r})\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    loaded = set(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    )
    heavy = {"fastavro"} | {
        f"airflow_provider_flinkbatch.{name}"
        for name in ("specs.avro", "specs.testing", "specs.validate", "specs.render", "plan.explain", "local", "runner")
    }
    assert loaded & heavy == set()
    assert "airflow_provider_flinkbatch.operators.sql" in loaded
