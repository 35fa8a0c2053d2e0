"""`flinkbatch test`, `validate`, the pytest plugin and a spec DAG, all on the real local Flink cluster."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from conftest import RunDag
from spec_helpers import EXAMPLE_SPECS, EXAMPLES, spec_folder, write_tree

from airflow_provider_flinkbatch.cli import main

pytestmark = pytest.mark.integration


def _lines(text: str) -> list[str]:
    """Output lines with the job id and duration (different per run) blanked."""
    import re

    return [re.sub(r"\(job [0-9a-f]{32}, [\d.]+s\)|\([\d.]+s\)", "(job …)", line) for line in text.splitlines()]


def test_example_specs_pass(flink_cluster: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["test", str(EXAMPLE_SPECS), "--rest-url", flink_cluster.rest_url]) == 0
    assert _lines(capsys.readouterr().out) == [
        "PASS ingest_clicks::drops_bots_and_counts_per_page (job …)",
        "PASS ingest_orders::revenue_per_country_from_csv (job …)",
        "PASS ingest_signups::one_signup_per_user (job …)",
        "PASS country_report::revenue_per_day_and_country (job …)",  # assets/: two DAGs chained by an asset
        "PASS orders_by_day::one_day_of_orders (job …)",
        "PASS ingest_page_views::copies_the_day (job …)",  # kafka/: Kafka swapped for the fixture rows
        "PASS ingest_purchases::converts_cents (job …)",
        "PASS ingest_searches::normalizes_queries (job …)",
        "8 passed, 0 failed",
    ]


def test_wrong_expectation_shows_a_row_diff(
    flink_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "specs"
    shutil.copytree(EXAMPLE_SPECS, folder)
    spec = folder / "ingest_orders.yaml"
    spec.write_text(spec.read_text().replace("orders: 2, revenue: 200.75", "orders: 2, revenue: 201.75"))
    assert main(["test", str(folder), "--name", "ingest_orders", "--rest-url", flink_cluster.rest_url]) == 1
    assert _lines(capsys.readouterr().out) == [
        "FAIL ingest_orders::revenue_per_country_from_csv (job …)",
        "  orders_daily: 2 row(s) expected, 2 produced; 1 missing, 1 unexpected",
        "    - dt=2026-03-01, country=DE, orders=2, revenue=201.75",
        "    + dt=2026-03-01, country=DE, orders=2, revenue=200.75",
        "        revenue: expected 201.75, got 200.75",
        "    (- expected but not produced, + produced but not expected)",
        "0 passed, 1 failed",
    ]


PRODUCTION_SQL = """\
-- Production tables: Kafka in, a partitioned bucket out. Neither exists here; the test swaps them.
CREATE TABLE page_views (
    user_id BIGINT,
    url     STRING,
    ts      TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
    `partition` INT METADATA VIRTUAL
) WITH (
    'connector' = 'kafka',
    'topic' = 'page_views',
    'properties.bootstrap.servers' = 'kafka:9092',
    'format' = 'avro'
);
CREATE TABLE views_by_day (
    url   STRING,
    view_count BIGINT,
    dt    STRING
) PARTITIONED BY (dt) WITH (
    'connector' = 'filesystem',
    'path' = 's3://warehouse/views_by_day',
    'format' = 'parquet'
);
INSERT INTO views_by_day
SELECT url, COUNT(*), DATE_FORMAT(ts, 'yyyy-MM-dd')
FROM page_views
WHERE url <> '{{ params.ignore_url }}'
GROUP BY url, DATE_FORMAT(ts, 'yyyy-MM-dd');
"""

PRODUCTION_SPEC = """\
name: views
sql: views.sql
params: {ignore_url: /health}
flink_config: {table.local-time-zone: UTC}
presets: [adaptive-batch]
tests:
  - name: per_url_and_day
    inputs:
      page_views:
        - {user_id: 1, url: /a, ts: "2026-03-01 10:00:00"}
        - {user_id: 2, url: /a, ts: "2026-03-01 23:59:59.999"}
        - {user_id: 2, url: /a, ts: 2026-03-02T00:00:01Z}
        - {user_id: 3, url: /health, ts: "2026-03-01 10:00:00"}
        - {user_id: 4, url: /b, ts: "2026-03-02 08:00:00"}
    expected:
      views_by_day:
        - {url: /a, view_count: 2, dt: "2026-03-01"}
        - {url: /a, view_count: 1, dt: "2026-03-02"}
        - {url: /b, view_count: 1, dt: "2026-03-02"}
"""


def test_kafka_source_and_partitioned_sink_are_swapped_for_local_files(
    flink_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The exact production SQL (Kafka metadata columns, a partitioned sink, a cluster-level preset) runs."""
    write_tree(tmp_path, {"jobs/views.yaml": PRODUCTION_SPEC, "jobs/views.sql": PRODUCTION_SQL})
    keep = tmp_path / "kept"
    assert main(["test", str(tmp_path / "jobs"), "--rest-url", flink_cluster.rest_url, "--keep", str(keep)]) == 0, (
        capsys.readouterr().out
    )
    assert _lines(capsys.readouterr().out) == ["PASS views::per_url_and_day (job …)", "1 passed, 0 failed"]
    partitions = sorted(p.name for p in (keep / "views" / "per_url_and_day" / "views_by_day").iterdir())
    assert partitions == ["dt=2026-03-01", "dt=2026-03-02"]


def test_runtime_failure_and_unknown_table_are_reported(
    flink_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = spec_folder(
        tmp_path,
        {
            "clicks.yaml": """\
                sql: [sql/clicks.sql, sql/page_ids.sql]
                params: {base: /tmp/x}
                tests:
                  - name: bad_number
                    inputs:
                      clicks_raw: [{user_id: 1, page: not-a-number}]
                    expected:
                      clicks_daily: []
                  - name: typo_in_table
                    inputs:
                      clicks_rwa: [{user_id: 1, page: /a}]
                    expected:
                      clicks_daily: []
            """
        },
    )
    # a second SQL file appends one more INSERT to the same job: it fails at run time on the CAST
    (folder / "sql" / "page_ids.sql").write_text(
        "INSERT INTO clicks_daily SELECT page, CAST(page AS BIGINT) FROM clicks_raw"
    )
    assert main(["test", str(folder), "--rest-url", flink_cluster.rest_url]) == 1
    out = _lines(capsys.readouterr().out)
    assert out[0] == "FAIL clicks::bad_number (job …)"
    assert out[1].startswith("  Flink job FAILED: ") and "not-a-number" in out[1], out
    assert "FAIL clicks::typo_in_table (job …)" in out
    assert "  inputs.clicks_rwa: the SQL declares no table 'clicks_rwa' (declared: clicks_raw, clicks_daily)" in out
    assert out[-1] == "0 passed, 2 failed"


def test_validate_examples_and_catch_a_sql_error(
    flink_cluster: Any, flink_conn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(EXAMPLE_SPECS), "--rest-url", flink_cluster.rest_url]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"OK    {name} (specs/{name}.yaml): 3 statements, reads {source}, writes {sink}; 1 test case(s); "
        "Flink planned it (on the cluster)"
        for name, source, sink in (
            ("ingest_clicks", "clicks_raw", "clicks_daily"),
            ("ingest_orders", "orders_raw", "orders_daily"),
            ("ingest_signups", "signups_raw", "signups_daily"),
        )
    ] + [
        f"OK    {name} (specs/assets/{name}.yaml): 3 statements, reads {source}, writes {sink}; 1 test case(s); "
        "Flink planned it (on the cluster)"
        for name, source, sink in (
            ("country_report", "orders_by_day", "country_revenue"),
            ("orders_by_day", "shop_orders", "orders_by_day"),
        )
    ] + [
        f"OK    {name} (specs/kafka/{name}.yaml): 3 statements, reads {name[7:]}_raw, writes {name[7:]}; "
        "1 test case(s); Flink planned it (on the cluster)"
        for name in ("ingest_page_views", "ingest_purchases", "ingest_searches")
    ] + ["8 spec(s): 8 valid, 0 with errors"]

    folder = tmp_path / "specs"
    shutil.copytree(EXAMPLE_SPECS, folder)
    sql = folder / "sql" / "ingest_orders.sql"
    sql.write_text(sql.read_text().replace("SUM(amount)", "SUM(amout)"))
    assert main(["validate", str(folder), "--rest-url", flink_cluster.rest_url]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith(
        "ERROR specs/ingest_orders.yaml: sql: Flink rejects the SQL: Statement 3 of 3 (INSERT OVERWRITE orders_daily"
    )
    assert out[1].endswith("Column 'amout' not found in any table"), out[1]
    assert out[-1] == "8 spec(s): 7 valid, 1 with errors"


def test_validate_plans_locally_without_a_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Client-side EXPLAIN in a local JVM: no cluster, no connection; undefined template names are caught too."""
    folder = spec_folder(
        tmp_path,
        {
            "bad_column.yaml": "sql: sql/bad.sql\nparams: {base: /tmp/x}\n",
            "bad_template.yaml": "sql: sql/clicks.sql\n",  # params.base is never defined
        },
    )
    (folder / "sql" / "bad.sql").write_text(
        (folder / "sql" / "clicks.sql").read_text().replace("GROUP BY page", "GROUP BY pgae")
    )
    assert main(["validate", str(folder), "--no-connections", "--workers", "1"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "ERROR jobs/bad_template.yaml: sql: template does not render: 'dict object' has no attribute 'base'"
    )
    assert out[1].startswith("ERROR jobs/bad_column.yaml: sql: Flink rejects the SQL: ") and "pgae" in out[1], out
    assert out[2] == "2 spec(s): 0 valid, 2 with errors"


def test_scaffolded_spec_passes_as_created(
    flink_cluster: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "web.sessions", "--dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        f"created {tmp_path / 'web.sessions.yaml'}",
        f"created {tmp_path / 'sql' / 'web.sessions.sql'}",
        f"created {tmp_path / 'fixtures' / 'web.sessions' / 'input.csv'}",
    ]
    assert main(["test", str(tmp_path), "--rest-url", flink_cluster.rest_url]) == 0
    assert _lines(capsys.readouterr().out) == ["PASS web.sessions::counts_per_item (job …)", "1 passed, 0 failed"]
    with pytest.raises(ValueError, match="already exist"):
        main(["new", "web.sessions", "--dir", str(tmp_path)]) if False else _scaffold_again(tmp_path)


def _scaffold_again(folder: Path) -> None:
    from airflow_provider_flinkbatch.specs.scaffold import scaffold

    scaffold("web.sessions", folder)


def test_pytest_plugin_runs_spec_cases_as_tests(flink_cluster: Any, tmp_path: Path) -> None:
    """A user's suite: one pytest test per case, the diff as the failure message."""
    folder = tmp_path / "specs"
    shutil.copytree(EXAMPLE_SPECS, folder)
    spec = folder / "ingest_signups.yaml"
    spec.write_text(spec.read_text().replace("country: FR, signups: 1", "country: FR, signups: 5"))
    (tmp_path / "test_user_specs.py").write_text(
        textwrap.dedent(
            f"""
            import pytest
            from airflow_provider_flinkbatch.specs.pytest_plugin import spec_test_cases

            @pytest.mark.parametrize(("spec", "case"), spec_test_cases({str(folder)!r}))
            def test_job_spec(flinkbatch_spec_runner, spec, case):
                flinkbatch_spec_runner.check(spec, case)
            """
        )
    )
    env = {**os.environ, "FLINKBATCH_TEST_REST_URL": flink_cluster.rest_url}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "airflow_provider_flinkbatch.specs.pytest_plugin", "-q", "-p",
         "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path / "test_user_specs.py")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 7 passed" in result.stdout  # the example specs' cases, assets/ included
    assert "FAILED test_user_specs.py::test_job_spec[ingest_signups::one_signup_per_user]" in result.stdout
    assert "      signups: expected 5, got 1" in result.stdout


def test_spec_dag_runs_end_to_end(run_dag: RunDag, data_dir: Path) -> None:
    """The factory's DAG, run with dag.test(): three Flink jobs (deferred), the conf's data_dir, real output."""
    landing = data_dir / "landing"
    write_tree(
        landing,
        {
            "clicks/2026-03-01/part.json": '{"event_id": "e1", "user_id": 1, "page": "/home", "country": "de", "user_agent": "x", "event_time": "2026-03-01 08:00:00"}\n',
            "orders/2026-03-01/part.json": '{"order_id": 1, "country": "de", "amount": 12.5, "status": "paid"}\n',
            "signups/2026-03-01/part.json": '{"user_id": 7, "channel": "ADS", "country": "fr", "created_at": "2026-03-01 08:00:00"}\n',
        },
    )
    _, tis = run_dag("events_daily", EXAMPLES, logical_date=dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    assert {task: ti.state for task, ti in tis.items()} == dict.fromkeys(
        ("ingest_clicks", "ingest_orders", "ingest_signups"), "success"
    )

    def rows(table: str) -> list[str]:
        folder = data_dir / "warehouse" / table / "2026-03-01"
        return sorted(
            line
            for p in folder.rglob("*")
            if p.is_file() and not p.name.startswith(".")
            for line in p.read_text().splitlines()
        )

    assert rows("clicks_daily") == ["2026-03-01,/home,DE,1,1"]
    assert rows("orders_daily") == ["2026-03-01,DE,1,12.5"]  # Flink's CSV writes DECIMAL(12, 2) 12.50 as 12.5
    assert rows("signups_daily") == ["2026-03-01,ads,FR,1"]
