"""A spec's assets at parse time: inlets from its sources, ``depends_on`` another DAG's job = scheduled on
that job's assets, ``sinks:`` naming the assets; clear errors where no asset can be known."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import Asset
from spec_helpers import EXAMPLE_SPECS, spec_folder

from airflow_provider_flinkbatch.assets import sink_events
from airflow_provider_flinkbatch.specs import assets as spec_assets
from airflow_provider_flinkbatch.specs.effective import sql_text, template_context, template_env
from airflow_provider_flinkbatch.specs.factory import SPEC_ERROR_TAG, build_dags
from airflow_provider_flinkbatch.specs.load import load_specs
from airflow_provider_flinkbatch.sql.statements import split_statements

WAREHOUSE = "file:///tmp/flinkbatch-specs-example/warehouse/orders_by_day"


def test_example_report_dag_is_scheduled_on_the_asset_the_upstream_dag_writes() -> None:
    dags = build_dags(EXAMPLE_SPECS / "assets", on_error="raise")
    report: Any = dags["country_report"]
    upstream = dags["orders_by_day"]
    assert report.timetable.asset_condition.objects == (Asset(WAREHOUSE),)
    assert report.get_task("country_report").inlets == [Asset(WAREHOUSE)]
    # the upstream's source path has a dt={{ ds }} partition: the inlet is the table, the same for every run
    task: Any = upstream.get_task("orders_by_day")
    assert task.inlets == [Asset("file:///tmp/flinkbatch-specs-example/landing/shop_orders")]
    assert task.sink_assets == {"orders_by_day": None}
    # what a run on 2026-03-01 emits: the table's asset (what country_report waits for), the day in the extra
    sql = task.render_template(task.sql, {"params": task.params, "ds": "2026-03-01"})
    events = sink_events(split_statements(sql), {"job_id": "f" * 32}, task.sink_assets)
    assert events == [
        (
            WAREHOUSE,
            {
                "table": "orders_by_day",
                "connector": "filesystem",
                "flink_job_id": "f" * 32,
                "partition": {"dt": "2026-03-01"},
            },
        )
    ]


UPSTREAM = "dag: up\nsql: sql/clicks.sql\nparams: {base: /tmp/x}\n"


def _broken(folder: Path) -> str:
    dags = build_dags(folder)
    broken = [dag for dag in dags.values() if SPEC_ERROR_TAG in dag.tags]
    assert len(broken) == 1, sorted(dags)
    return str(broken[0].doc_md)


def test_depends_on_a_job_whose_sink_path_changes_per_run_says_how_to_fix_it(tmp_path: Path) -> None:
    # clicks.sql writes '{{ params.base }}/daily/{{ ds }}': a new location every day, no asset to wait for
    folder = spec_folder(
        tmp_path, {"a.yaml": UPSTREAM, "b.yaml": UPSTREAM.replace("dag: up", "dag: down") + "depends_on: [a]\n"}
    )
    message = _broken(folder)
    assert "depends_on 'a' (DAG 'up'): it writes clicks_daily at a location that changes per run" in message
    assert "sinks: [{table: <table>, asset: <uri>}]" in message


def test_a_sink_named_in_the_spec_is_the_asset_downstream_dags_wait_for(tmp_path: Path) -> None:
    named = UPSTREAM + "sinks: [{table: clicks_daily, asset: 's3://lake/clicks_daily'}]\n"
    folder = spec_folder(
        tmp_path, {"a.yaml": named, "b.yaml": UPSTREAM.replace("dag: up", "dag: down") + "depends_on: [a]\n"}
    )
    dags: dict[str, Any] = build_dags(folder, on_error="raise")
    assert dags["down"].timetable.asset_condition.objects == (Asset("s3://lake/clicks_daily"),)
    assert dags["up"].get_task("a").sink_assets == {"clicks_daily": "s3://lake/clicks_daily"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("depends_on: [nope]\n", "jobs/b.yaml: depends_on[0]: no spec named 'nope' (specs: a, b, clicks_daily)"),
        (
            "name: report\ndepends_on: [clicks_dayly]\n",
            "jobs/b.yaml: depends_on[0]: no spec named 'clicks_dayly' (specs: a, clicks_daily, report); "
            "did you mean 'clicks_daily'?",
        ),
        (
            "sinks: [{table: clicks_daily, asset: 'not a uri'}]\n",
            "jobs/b.yaml: sinks[0].asset: asset 'not a uri': expected a URI like 'file:///warehouse/orders' "
            "or 's3://bucket/path'",
        ),
    ],
)
def test_bad_asset_fields_fail_naming_the_field(tmp_path: Path, spec: str, message: str) -> None:
    from airflow_provider_flinkbatch.specs.load import load_specs

    down = UPSTREAM.replace("dag: up", "dag: down") + spec
    folder = spec_folder(tmp_path, {"a.yaml": UPSTREAM, "b.yaml": down, "c.yaml": UPSTREAM + "name: clicks_daily\n"})
    assert [str(error) for error in load_specs(folder).errors] == [message]


def test_an_edited_upstream_sql_moves_the_downstream_schedule_despite_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLINKBATCH_HOME", str(tmp_path / "home"))
    folder = spec_folder(
        tmp_path, {"a.yaml": UPSTREAM, "b.yaml": UPSTREAM.replace("dag: up", "dag: down") + "depends_on: [a]\n"}
    )
    sql = folder / "sql" / "clicks.sql"
    sql.write_text(sql.read_text().replace("/daily/{{ ds }}", "/daily/dt={{ ds }}"))
    dags: dict[str, Any] = build_dags(folder, on_error="raise")
    assert dags["down"].timetable.asset_condition.objects == (Asset("file:///tmp/x/daily"),)
    assert list((tmp_path / "home" / "spec-cache").glob("*-assets.json"))
    sql.write_text(sql.read_text().replace("/daily/dt=", "/daily_v2/dt="))
    moved: dict[str, Any] = build_dags(folder, on_error="raise")
    assert moved["down"].timetable.asset_condition.objects == (Asset("file:///tmp/x/daily_v2"),)


def test_parse_time_rendering_gives_the_assets_a_whole_jinja_render_gives(tmp_path: Path) -> None:
    # The parse-time renderer evaluates `{{ expression }}`s one by one (compiled once per folder); a script with
    # blocks goes through Jinja whole. Both must name the same tables as Airflow's render of the script.
    looped = "{% for t in ['a', 'b'] %}CREATE TABLE {{ t }} (x INT) WITH ('connector' = 'filesystem', " + (
        "'path' = '{{ params.base }}/{{ t }}/dt={{ ds }}', 'format' = 'csv');\n{% endfor %}"
        "INSERT INTO b SELECT x FROM a;\n"
    )
    folder = spec_folder(tmp_path, {"loop.yaml": "dag: loop\nsql: sql/loop.sql\nparams: {base: /tmp/x}\n"})
    (folder / "sql" / "loop.sql").write_text(looped)
    specs = [*load_specs(EXAMPLE_SPECS).specs, *load_specs(folder).specs]
    assert len(specs) >= 9
    for spec in specs:
        env, text = template_env(spec), sql_text(spec)
        contexts = [template_context(spec, date) for date in spec_assets.SAMPLE_DATES]
        whole = [script.rstrip("\n") for script in spec_assets._render_whole(env, text, contexts)]
        assert [script.rstrip("\n") for script in spec_assets._render(env, text, contexts)] == whole, spec.name
    loop = build_dags(folder, on_error="raise")["loop"].get_task("loop")
    assert loop.inlets == [Asset("file:///tmp/x/a")]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("INSERT INTO t SELECT '{{ ''.__class__ }}'", "access to attribute '__class__' of 'str' object is unsafe"),
        ("INSERT INTO t SELECT '{{ params.nope }}'", "'dict object' has no attribute 'nope'"),
    ],
)
def test_parse_time_rendering_refuses_what_a_run_refuses(tmp_path: Path, sql: str, message: str) -> None:
    folder = spec_folder(
        tmp_path,
        {
            "a.yaml": "dag: up\nsql: sql/a.sql\n",
            "b.yaml": "dag: down\nsql: sql/clicks.sql\nparams: {base: /tmp/x}\ndepends_on: [a]\n",
        },
    )
    (folder / "sql" / "a.sql").write_text(sql)
    assert message in _broken(folder)
