"""The example spec DAGs chained by an asset, end to end with the real scheduler (integration suite).

``example_dags/specs/assets``: ``orders_by_day`` writes a ``dt`` partition of a table; ``country_report``
``depends_on`` it from another DAG, so its DAG is scheduled on that table's asset. Real Airflow 3 processes
(:class:`~airflow_processes.AirflowProcesses`, the browser test's harness) and the session's real Flink
cluster: one manual run of the upstream DAG must make the scheduler start the report DAG by itself.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
import requests
from airflow_processes import AirflowProcesses
from spec_helpers import EXAMPLE_SPECS

from airflow_provider_flinkbatch.local import LocalClusterInfo

UPSTREAM, DOWNSTREAM = "orders_by_day", "country_report"
DAY = "2026-03-01"


def _deployment_folder(home: Path, data: Path) -> Path:
    """The example specs as a DAG folder of their own, writing under ``data``; the test triggers the day."""
    dags = home / "dags"
    shutil.copytree(EXAMPLE_SPECS / "assets", dags / "specs")
    defaults = dags / "specs" / "defaults.yaml"
    defaults.write_text(defaults.read_text().replace("/tmp/flinkbatch-specs-example", str(data)))
    upstream = dags / "specs" / f"{UPSTREAM}.yaml"
    upstream.write_text(upstream.read_text().replace('schedule: "@daily"', "schedule: null"))
    (dags / "flink_batch_asset_specs.py").write_text(
        "from airflow_provider_flinkbatch.specs import build_dags\n\nbuild_dags('specs', globals())\n"
    )
    return dags


def _run_done(airflow: AirflowProcesses, dag_id: str, run_id: str) -> str | None:
    state = airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
    return state if state in ("success", "failed") else None


def _parsed(airflow: AirflowProcesses) -> bool:
    dags = {dag["dag_id"] for dag in airflow.api("GET", "/dags")["dags"]}
    return {UPSTREAM, DOWNSTREAM} <= dags


def _value(field: str) -> Any:
    try:
        return Decimal(field)
    except InvalidOperation:
        return field


def _rows(folder: Path) -> list[list[Any]]:
    """The CSV rows Flink wrote, numbers as Decimal (Flink's CSV writes 410.00 as 4.1E+2 by default)."""
    files = [path for path in folder.rglob("*") if path.is_file() and not path.name.startswith((".", "_"))]
    lines = [line for path in files for line in path.read_text().splitlines() if line]
    return sorted([_value(field) for field in line.split(",")] for line in lines)


@pytest.mark.integration
def test_a_day_landing_in_orders_by_day_schedules_the_country_report_dag(
    tmp_path: Path, flink_cluster: LocalClusterInfo
) -> None:
    data = tmp_path / "data"
    landing = data / "landing" / "shop_orders" / f"dt={DAY}"
    landing.mkdir(parents=True)
    (landing / "orders.csv").write_text("1,de,120.50\n2, DE ,80.25\n3,us,410.00\n")
    conn = json.loads(flink_cluster.connection_uri_json())
    conn["extra"]["timeout"] = 120  # /jars/<id>/run plans the SQL in the JobManager: slow on 2 busy cores
    airflow = AirflowProcesses(
        tmp_path / "airflow", _deployment_folder(tmp_path, data), {"AIRFLOW_CONN_FLINK_BATCH_DEFAULT": json.dumps(conn)}
    )
    try:
        airflow.start()
        airflow.wait_until(lambda: _parsed(airflow), 180, "the dag-processor to parse the two spec DAGs")
        # the report DAG is scheduled on the upstream table's asset, known when the DAGs were parsed
        warehouse = f"file://{data}/warehouse/orders_by_day"
        report = airflow.api("GET", f"/dags/{DOWNSTREAM}/details")
        assert warehouse in json.dumps(report["asset_expression"]), report["asset_expression"]

        run = airflow.api("POST", f"/dags/{UPSTREAM}/dagRuns", json={"logical_date": f"{DAY}T00:00:00Z"})
        run_id = str(run["dag_run_id"])
        airflow.wait_until(lambda: _run_done(airflow, UPSTREAM, run_id), 300, f"{UPSTREAM} to end", 2)
        assert _run_done(airflow, UPSTREAM, run_id) == "success", airflow.log_tails()

        events = airflow.asset_events(UPSTREAM)
        assert [(event["uri"], event["source_run_id"]) for event in events] == [(warehouse, run_id)]
        extra: dict[str, Any] = events[0]["extra"]
        job = requests.get(f"{flink_cluster.rest_url}/jobs/{extra['flink_job_id']}", timeout=30).json()
        assert job["name"] == f"{UPSTREAM}.{UPSTREAM}" and job["state"] == "FINISHED"
        expected = {"table": "orders_by_day", "connector": "filesystem", "rows_written": 3, "partition": {"dt": DAY}}
        assert {key: extra.get(key) for key in expected} == expected, extra
        print("asset event:", events[0]["uri"], json.dumps(extra, sort_keys=True))  # for the report
        assert _rows(data / "warehouse" / "orders_by_day" / f"dt={DAY}") == [
            [1, "DE", Decimal("120.50")],
            [2, "DE", Decimal("80.25")],
            [3, "US", Decimal("410.00")],
        ]

        runs = airflow.wait_until(
            lambda: airflow.api("GET", f"/dags/{DOWNSTREAM}/dagRuns")["dag_runs"],
            180,
            f"the asset-scheduled {DOWNSTREAM} to run",
            2,
        )
        assert [downstream["run_type"] for downstream in runs] == ["asset_triggered"]
        downstream_id = str(runs[0]["dag_run_id"])
        airflow.wait_until(lambda: _run_done(airflow, DOWNSTREAM, downstream_id), 300, f"{DOWNSTREAM} to end", 2)
        assert _run_done(airflow, DOWNSTREAM, downstream_id) == "success", airflow.log_tails()
        assert _rows(data / "reports" / "country_revenue") == [
            [DAY, "DE", 2, Decimal("200.75")],
            [DAY, "US", 1, Decimal("410.00")],
        ]

        # the report's task reads the upstream table: an inlet of that asset, and emits its own table's asset
        asset = next(a for a in airflow.api("GET", "/assets")["assets"] if a["uri"] == warehouse)
        assert [(t["dag_id"], t["task_id"]) for t in asset["consuming_tasks"]] == [(DOWNSTREAM, DOWNSTREAM)]
        assert [d["dag_id"] for d in asset["scheduled_dags"]] == [DOWNSTREAM]
        report_events = airflow.asset_events(DOWNSTREAM)
        assert [event["uri"] for event in report_events] == [f"file://{data}/reports/country_revenue"]
        print("asset event:", report_events[0]["uri"], json.dumps(report_events[0]["extra"], sort_keys=True))
    finally:
        airflow.stop()
