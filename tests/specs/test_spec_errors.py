"""Every bad spec fails with one line naming the file, the field path and the fix; good specs still load."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import spec_folder

from airflow_provider_flinkbatch.specs.load import load_specs

GOOD = "sql: sql/clicks.sql\nparams: {base: /tmp/x}\n"

BAD_SPECS = [
    pytest.param(
        GOOD + "flink_config:\n  parallelism.default: eight\n",
        "jobs/clicks.yaml: flink_config.parallelism.default: expected int, got 'eight'",
        id="flink-option-type",
    ),
    pytest.param(
        GOOD + "schedul: '@daily'\n",
        "jobs/clicks.yaml: schedul: unknown field; did you mean 'schedule'?",
        id="typo-field",
    ),
    pytest.param("owner: me\n", "jobs/clicks.yaml: sql: required field is missing", id="missing-sql"),
    pytest.param(
        "sql: clicks.txt\n",
        "jobs/clicks.yaml: sql: expected .sql file paths relative to the spec, got 'clicks.txt'",
        id="sql-not-sql",
    ),
    pytest.param(
        GOOD + "presets: [adaptive-batch, celeborne]\n",
        "jobs/clicks.yaml: presets[1]: unknown preset 'celeborne'; known presets: celeborn, adaptive-batch, "
        "speculative, blocking-shuffle, hybrid-shuffle, memory-small, memory-large",
        id="unknown-preset",
    ),
    pytest.param(
        GOOD + "presets: [celeborn]\n",
        "jobs/clicks.yaml: presets: preset 'celeborn' needs celeborn.master.endpoints in flink_config: "
        "the Celeborn masters, host:port[,host:port]",
        id="preset-requirement",
    ),
    pytest.param(GOOD + "retries: -1\n", "jobs/clicks.yaml: retries: expected a number >= 0, got -1", id="negative"),
    pytest.param(
        GOOD + "retry_delay: soon\n",
        "jobs/clicks.yaml: retry_delay: expected a duration like '30s', '5m', '2h' or seconds as a number, got 'soon'",
        id="duration",
    ),
    pytest.param(
        GOOD + "schedule: '@daily'\n",
        "jobs/clicks.yaml: start_date: required when schedule is set (e.g. start_date: 2026-01-01)",
        id="schedule-without-start",
    ),
    pytest.param(
        GOOD + "plan_check: maybe\n",
        "jobs/clicks.yaml: plan_check: expected one of 'warn' or 'fail', got 'maybe'",
        id="literal",
    ),
    pytest.param(
        GOOD + "name: clicks daily\n",
        "jobs/clicks.yaml: name: name 'clicks daily' may use only letters, digits, '_', '-' and '.' (Airflow id rules)",
        id="bad-id",
    ),
    pytest.param(
        GOOD + "target: yarnn\n",
        "jobs/clicks.yaml: target: target='yarnn' is not a known target; use one of ['kubernetes', 'session', 'yarn']",
        id="unknown-target",
    ),
    pytest.param(
        GOOD + "depends_on: [orderz]\n",
        "jobs/clicks.yaml: depends_on[0]: no spec named 'orderz' (specs: clicks)",
        id="unknown-dependency",
    ),
    pytest.param(
        GOOD + "resources: {parallelism: 4}\nflink_config: {parallelism.default: 8}\n",
        "jobs/clicks.yaml: resources.parallelism: 4 conflicts with flink_config.parallelism.default=8: set it in one place",
        id="resources-conflict",
    ),
    pytest.param(
        GOOD + "flink_config:\n  pipeline.jars: [a.jar, b.jar]\n",
        "jobs/clicks.yaml: flink_config.pipeline.jars: expected a string, number or boolean, got ['a.jar', 'b.jar']: "
        "write lists and maps as Flink does, e.g. 'a;b' or 'k1:v1,k2:v2'",
        id="flink-value-list",
    ),
    pytest.param(
        GOOD + "retry_on: {out_of_memroy: true}\n",
        "jobs/clicks.yaml: retry_on.out_of_memroy: unknown failure category; known: sql_error, missing_source, "
        "schema_mismatch, user_data_error, input_missing, permission_denied, out_of_memory, "
        "shuffle_service_unavailable, resource_lost, io_error, cancelled, finished, unknown",
        id="retry-category",
    ),
    pytest.param(
        GOOD
        + "tests:\n  - name: t\n    inputs: {clicks_raw: {rows: [], file: a.csv}}\n    expected: {clicks_daily: []}\n",
        "jobs/clicks.yaml: tests[0].inputs.clicks_raw: give either rows (a list of mappings) or file "
        "(a .csv/.json/.jsonl path), not both",
        id="test-rows-and-file",
    ),
    pytest.param(
        GOOD + "tests:\n  - name: t\n    inputs: {clicks_raw: []}\n",
        "jobs/clicks.yaml: tests[0].expected: required field is missing",
        id="test-without-expected",
    ),
    pytest.param(
        GOOD + "sources:\n  - {table: clicks_raw, latest_avro_schema: v2.avsc}\n",
        "jobs/clicks.yaml: sources[0]: latest_avro_schema needs avro_schema (the schema the job was written against)",
        id="avro-latest-without-base",
    ),
    pytest.param(
        "sql: sql/clicks.sql\n  owner: [\n",
        "jobs/clicks.yaml: invalid YAML: line 2, column 8: mapping values are not allowed in this context",
        id="yaml-syntax",
    ),
    pytest.param(
        "- sql: a.sql\n",
        "jobs/clicks.yaml: expected a mapping of fields (name: ..., sql: ...), got list",
        id="not-a-mapping",
    ),
]


@pytest.mark.parametrize(("spec", "message"), BAD_SPECS)
def test_bad_spec_message(tmp_path: Path, spec: str, message: str) -> None:
    specs = load_specs(spec_folder(tmp_path, {"clicks.yaml": spec}))
    assert [str(error) for error in specs.errors] == [message]
    assert specs.specs == []


def test_one_bad_spec_does_not_hide_the_others(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path,
        {"a_good.yaml": GOOD, "b_bad.yaml": GOOD + "retries: many\n", "c_good.yaml": GOOD},
    )
    specs = load_specs(folder)
    assert [spec.name for spec in specs.specs] == ["a_good", "c_good"]
    assert [str(error) for error in specs.errors] == ["jobs/b_bad.yaml: retries: expected int, got 'many'"]


def test_mistake_in_defaults_is_reported_against_the_defaults_file_once(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path,
        {"a.yaml": GOOD, "b.yaml": GOOD, "c.yaml": GOOD + "resources: {parallelism: 2}\n"},
        defaults="resources:\n  parallelism: zero\n",
    )
    specs = load_specs(folder)
    # a and b inherit the bad value; c sets its own and is fine
    assert [str(error) for error in specs.errors] == [
        "jobs/defaults.yaml: resources.parallelism: expected int, got 'zero'"
    ]
    assert [spec.name for spec in specs.specs] == ["c"]


def test_duplicate_names_and_cycles(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path,
        {
            "a.yaml": GOOD + "dag: g\ndepends_on: [b]\n",
            "b.yaml": GOOD + "dag: g\ndepends_on: [a]\n",
            "c.yaml": GOOD + "name: a\n",
        },
    )
    messages = [str(error) for error in load_specs(folder).errors]
    assert messages == [
        "jobs/c.yaml: name: 'a' is already used by a.yaml",
        "jobs/a.yaml: depends_on: dependency cycle: a -> b -> a",
    ]


def test_dependency_across_dags_and_disagreeing_schedules(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path,
        {
            "a.yaml": GOOD + "dag: g\nschedule: '@daily'\nstart_date: 2026-01-01\n",
            "b.yaml": GOOD + "dag: g\nschedule: '@hourly'\nstart_date: 2026-01-01\n",
            "c.yaml": GOOD + "depends_on: [a]\nschedule: '@daily'\nstart_date: 2026-01-01\n",
            "d.yaml": GOOD + "depends_on: [a]\n",  # another DAG's job, no schedule: scheduled on its assets
            "e.yaml": GOOD + "sources: [{table: clicks, asset: 'file:///x'}]\n",
        },
    )
    messages = [str(error) for error in load_specs(folder).errors]
    assert messages == [
        "jobs/c.yaml: depends_on[0]: 'a' runs in DAG 'g': this DAG ('c') is then scheduled on the assets 'a' writes, "
        "not by schedule '@daily'; set schedule: null (or give both the same 'dag:' key to run them in one DAG)",
        "jobs/e.yaml: sources[0].asset: asset names what a sink's events are; sources come from the SQL",
        "jobs/b.yaml: schedule: '@hourly' differs from '@daily' in a.yaml, which is in the same DAG 'g': "
        "jobs of one DAG share its schedule",
    ]


def test_dependency_on_an_invalid_spec_names_it(tmp_path: Path) -> None:
    folder = spec_folder(
        tmp_path, {"a.yaml": GOOD + "dag: g\nretries: x\n", "b.yaml": GOOD + "dag: g\ndepends_on: [a]\n"}
    )
    assert [str(error) for error in load_specs(folder).errors] == [
        "jobs/a.yaml: retries: expected int, got 'x'",
        "jobs/b.yaml: depends_on[0]: 'a' is invalid (jobs/a.yaml): fix it first",
    ]
