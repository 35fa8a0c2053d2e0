"""`flinkbatch render` prints what the factory builds; the target's own rendering is a soft hook."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spec_helpers import EXAMPLE_SPECS

from airflow_provider_flinkbatch.cli import main


def test_render_shows_effective_sql_config_operator_and_session_body(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_FLINK_BATCH_DEFAULT", json.dumps({"conn_type": "flink_batch", "host": "http://jm:8081"})
    )
    assert main(["render", str(EXAMPLE_SPECS / "ingest_orders.yaml"), "--logical-date", "2026-03-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dag"] == {
        "dag_id": "events_daily",
        "schedule": "@daily",
        "start_date": "2026-01-01T00:00:00+00:00",
        "catchup": False,
        "tags": ["example", "flinkbatch-spec", "ingestion"],
    }
    assert out["effective_flink_config"] == {"parallelism.default": "2", "table.exec.sink.not-null-enforcer": "ERROR"}
    assert out["operator"]["retry_delay"] == 120.0 and out["operator"]["job_name"] == "events_daily.ingest_orders"
    assert "'/tmp/flinkbatch-specs-example/landing/orders/2026-03-01'" in out["sql"]
    assert "SELECT '2026-03-01', UPPER(TRIM(country))" in out["sql"]
    body = out["target"]  # the session cluster's /jars/<id>/run body
    assert body["flinkConfiguration"]["pipeline.name"] == "events_daily.ingest_orders"
    assert body["flinkConfiguration"]["execution.runtime-mode"] == "BATCH"
    assert body["programArgsList"] == "<3 statement(s), base64: the effective SQL above>"


def test_render_asks_a_target_with_render_for_its_view(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from spec_helpers import create_rendering_target

    from airflow_provider_flinkbatch.specs import render
    from airflow_provider_flinkbatch.targets import registry

    monkeypatch.setitem(registry.OPTIONS_MODELS, "rendering", None)
    monkeypatch.setattr(render, "create_target", create_rendering_target)
    spec = tmp_path / "job.yaml"
    (tmp_path / "ingest_orders.sql").write_text((EXAMPLE_SPECS / "sql" / "ingest_orders.sql").read_text())
    spec.write_text("sql: ingest_orders.sql\ntarget: rendering\nparams: {data_dir: /d}\n")
    assert main(["render", str(spec)]) == 0
    out = capsys.readouterr().out
    assert '== Target \'rendering\'\n{\n  "kind": "FlinkDeployment",\n  "job": "job.job"\n}' in out
    assert "== Effective SQL (rendered for logical date 2026-01-01)" in out


def test_render_without_connection_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(EXAMPLE_SPECS), "--name", "ingest_clicks"]) == 0
    out = capsys.readouterr().out
    assert out.rstrip().endswith(
        "== Target 'session'\n(not rendered: connection 'flink_batch_default' is not defined: create a 'flink_batch' "
        'connection in the Airflow UI or set AIRFLOW_CONN_FLINK_BATCH_DEFAULT=\'{"conn_type": "flink_batch", '
        '"host": "http://<jobmanager>:8081"}\')'
    )


def test_render_shows_the_assets_a_dag_is_scheduled_on_and_the_inlets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", str(EXAMPLE_SPECS), "--name", "country_report", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    warehouse = "file:///tmp/flinkbatch-specs-example/warehouse/orders_by_day"
    assert out["dag"]["schedule"] == {"assets": [warehouse]}  # depends_on orders_by_day, another DAG's job
    assert out["operator"]["inlets"] == [warehouse]
    assert out["operator"]["sink_assets"] == {"country_revenue": None}
