"""Plan insight on real Flink plans (client-side EXPLAIN through the runner jar, no cluster needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from conftest import RunDag, flink_jobs_named, xcom_value

from airflow_provider_flinkbatch.cli import main as flinkbatch
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.plan.explain import ExplainError, explain
from airflow_provider_flinkbatch.plan.insight import PlanInsight

COLUMNS = (
    "id INT, name STRING, amount DOUBLE, c1 STRING, c2 STRING, c3 STRING, c4 STRING, c5 STRING, "
    "c6 STRING, c7 STRING, addr ROW<city STRING, zip STRING>, dt STRING"
)


def script(data: Path) -> str:
    """Three INSERTs, one plan: a well-pushed scan, a partition filter that cannot be pushed, a source
    that takes no projection. Two table names over the same files keep the planner from sharing scans."""
    tables = "\n".join(
        f"CREATE TEMPORARY TABLE {name} ({COLUMNS}) PARTITIONED BY (dt) "
        f"WITH ('connector' = 'filesystem', 'path' = '{data}/wide', 'format' = 'json');"
        for name in ("wide_a", "wide_b")
    )
    return f"""{tables}
CREATE TEMPORARY TABLE events (id INT, name STRING, c1 STRING, c2 STRING, c3 STRING, c4 STRING, c5 STRING,
  c6 STRING, c7 STRING, c8 STRING, c9 STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TEMPORARY TABLE out_a (name STRING, amount DOUBLE, city STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY TABLE out_b (name STRING, amount DOUBLE) WITH ('connector' = 'blackhole');
CREATE TEMPORARY TABLE out_c (id INT, name STRING) WITH ('connector' = 'blackhole');
INSERT INTO out_a SELECT name, amount, addr.city FROM wide_a WHERE dt = '2026-11-01' AND amount > 5;
INSERT INTO out_b SELECT name, amount FROM wide_b WHERE dt > '2026-11-01' OR amount > 5;
INSERT INTO out_c SELECT id, name FROM events;
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("plan")
    for day in ("2026-11-01", "2026-11-02"):
        partition = root / "wide" / f"dt={day}"
        partition.mkdir(parents=True)
        row = {"id": 1, "name": "a", "amount": 7.0, "addr": {"city": "Lyon", "zip": "69001"}}
        (partition / "part-0.json").write_text(json.dumps(row) + "\n")
    (root / "job.sql").write_text(script(root))
    return root


@pytest.fixture(scope="module")
def insight(data: Path) -> PlanInsight:
    from airflow_provider_flinkbatch.sql.statements import split_statements

    return explain(split_statements((data / "job.sql").read_text()))


def test_pushed_projection_filter_and_partitions_are_reported(insight: PlanInsight) -> None:
    scan = next(s for s in insight.scans if s.table == "wide_a")
    assert scan.projection_pushed and scan.columns_read == ["name", "amount", "addr"] and scan.columns_total == 12
    assert scan.pushed_filters == [">(amount, 5)"]
    assert scan.partition_keys == ["dt"] and scan.partitions_read == ["dt=2026-11-01"]
    # filesystem/json does not prune nested fields: all of addr is read for addr.city
    assert scan.nested_fields_used == ["addr.city"]
    assert scan.warnings == []


def test_partition_filter_that_was_not_pushed_is_flagged(insight: PlanInsight) -> None:
    scan = next(s for s in insight.scans if s.table == "wide_b")
    assert scan.partitions_read is None  # every partition read
    assert scan.remaining_filter is not None and "dt" in scan.remaining_filter
    assert scan.warnings == [
        f"wide_b: the filter on partition column(s) dt was not pushed into the scan, so every partition is read "
        f"({scan.remaining_filter}); compare the partition column with a constant, outside OR/function calls"
    ]


def test_wide_scan_without_projection_pushdown_is_flagged(insight: PlanInsight) -> None:
    scan = next(s for s in insight.scans if s.table == "events")
    assert not scan.projection_pushed and len(scan.columns_read) == 11 and scan.columns_used == ["id", "name"]
    assert scan.warnings[0].startswith("events: the scan reads all 11 columns but the query uses 2 (id, name)")
    assert "TableSourceScan(table=[[default_catalog, default_database, events]]" in insight.plan


def test_sql_error_names_the_statement(data: Path) -> None:
    with pytest.raises(ExplainError, match=r"Statement 2 of 2 \(INSERT INTO missing SELECT 1\) failed: .*missing"):
        explain(["CREATE TEMPORARY TABLE s (x INT) WITH ('connector' = 'blackhole')", "INSERT INTO missing SELECT 1"])


def test_cli_rejected_sql_points_into_the_file_once_without_a_stack_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = tmp_path / "job.sql"
    job.write_text(
        "-- revenue\nCREATE TEMPORARY TABLE s (x INT, y INT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');\n"
        "CREATE TEMPORARY TABLE t (x INT) WITH ('connector' = 'blackhole');\n\n"
        "INSERT INTO t\nSELECT x + zz\nFROM s;\n"
    )
    # two --config keys become SET statements before the script's own: the statement number stays the file's
    assert (
        flinkbatch(
            ["explain", str(job), "-c", "parallelism.default=2", "-c", "table.exec.resource.default-parallelism=2"]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err == (
        f"flinkbatch: Flink rejected the SQL: {job}:6:12: SQL validation failed. From line 6, column 12 to line 6, "
        "column 13: Column 'zz' not found in any table\n"
        "  in statement 3 of 3 (line 5): INSERT INTO t SELECT x + zz FROM s\n"
    )


def test_cli_check_fail_exits_non_zero_with_the_report(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert flinkbatch(["explain", str(data / "job.sql"), "--check", "fail"]) == 4
    out = capsys.readouterr().out
    assert "== Optimized Physical Plan ==" in out
    assert "scan wide_a: reads 3/12 columns (projection pushed down): name, amount, addr" in out
    assert "WARNING: events: the scan reads all 11 columns" in out
    assert flinkbatch(["explain", str(data / "missing.sql")]) == 1


@pytest.mark.integration
def test_operator_plan_check_fail_stops_before_submitting(run_dag: RunDag, flink_cluster: LocalClusterInfo) -> None:
    _, tis = run_dag("it_plan_check_fail")
    assert tis["wide_scan"].state == "failed" and tis["wide_scan"].try_number == 1  # not retried
    assert flink_jobs_named(flink_cluster.rest_url, "it.plan.check.fail") == []


@pytest.mark.integration
def test_operator_reports_plan_and_metrics_of_a_real_run(
    run_dag: RunDag, orders: Path, flink_cluster: LocalClusterInfo, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run, tis = run_dag("it_platform")
    assert tis["presets_and_plan"].state == "success"
    log = capfd.readouterr().out
    assert "are cluster-level: on a session cluster" in log  # speculative on a session cluster

    plan = xcom_value(dag_run, "presets_and_plan", "flink_plan")
    scans = {scan["table"]: scan for scan in plan["scans"]}
    assert scans["orders"]["columns_total"] == 4 and scans["orders"]["projection_pushed"]

    metrics = xcom_value(dag_run, "presets_and_plan", "flink_metrics")
    summary = xcom_value(dag_run, "presets_and_plan")
    assert metrics["job_id"] == summary["job_id"] and metrics["duration_ms"] > 0
    details = requests.get(f"{flink_cluster.rest_url}/jobs/{summary['job_id']}", timeout=10).json()
    assert metrics["max_parallelism"] == max(v["parallelism"] for v in details["vertices"])
    assert metrics["shuffle_bytes"] > 0  # the GROUP BY sends rows between vertices
    assert any(v["bytes_out"] for v in metrics["vertices"]) and metrics["records_read"] == 10
    assert f"max parallelism {metrics['max_parallelism']}, shuffle {metrics['shuffle_bytes']} B" in log  # log table
