"""Avro -> Flink columns (checked by Flink's planner), and compatibility verdicts by Avro's resolution rules."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from spec_helpers import spec_folder

from airflow_provider_flinkbatch.specs.avro import (
    AvroSchemaError,
    check_compatibility,
    create_table_ddl,
    flink_columns,
    load_schema,
)

AVRO = Path(__file__).parent / "avro"

V1_COLUMNS = """\
`event_id` STRING NOT NULL,
`user_id` BIGINT NOT NULL,
`amount` DECIMAL(10, 2) NOT NULL,
`ts` TIMESTAMP_LTZ(3) NOT NULL,
`day` DATE NOT NULL,
`kind` STRING NOT NULL,
`device` ROW<`os` STRING, `screen` ROW<`width` INT NOT NULL, `height` INT NOT NULL> NOT NULL> NOT NULL,
`tags` ARRAY<STRING NOT NULL> NOT NULL,
`props` MAP<STRING, BIGINT>,
`referrer` ROW<`os` STRING, `screen` ROW<`width` INT NOT NULL, `height` INT NOT NULL> NOT NULL>,
`hash` BINARY(16) NOT NULL,
`value` DOUBLE NOT NULL"""


def test_nested_schema_to_flink_columns(capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_flinkbatch.cli import main

    columns = flink_columns(load_schema(AVRO / "click_v1.avsc"))
    assert ",\n".join(f"{name} {kind}" for name, kind in columns) == V1_COLUMNS
    assert main(["avro", "ddl", str(AVRO / "click_v1.avsc")]) == 0
    assert capsys.readouterr().out.strip() == V1_COLUMNS


@pytest.mark.integration
def test_flink_accepts_the_generated_table(flink_cluster: Any, tmp_path: Path) -> None:
    """The DDL is real Flink SQL: the planner of the running cluster accepts a job reading every column."""
    from airflow_provider_flinkbatch.specs.validate import _plan_on_cluster
    from airflow_provider_flinkbatch.sql.statements import split_statements

    schema = load_schema(AVRO / "click_v1.avsc")
    source = create_table_ddl(
        "clicks", schema, {"connector": "filesystem", "path": tmp_path.as_uri(), "format": "json"}
    )
    script = f"""{source}
        CREATE TABLE sink WITH ('connector' = 'blackhole') LIKE clicks (EXCLUDING OPTIONS);
        INSERT INTO sink SELECT * FROM clicks WHERE device.screen.width > 100 AND props['x'] IS NULL;"""
    _plan_on_cluster(flink_cluster.rest_url)(split_statements(script), {})  # raises with Flink's message if not


def _record(fields: list[dict[str, Any]], name: str = "R", **extra: Any) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": fields, **extra}


def _parse(schema: dict[str, Any], tmp_path: Path, name: str) -> Any:
    path = tmp_path / f"{name}.avsc"
    path.write_text(json.dumps(schema))
    return load_schema(path)


ENUM = {"type": "enum", "name": "E", "symbols": ["A", "B"]}
PAIRS = [
    # (old fields, new fields, mode, expected problems)
    pytest.param([{"name": "n", "type": "int"}], [{"name": "n", "type": "long"}], "backward", [], id="int-to-long"),
    pytest.param(
        [{"name": "n", "type": "long"}],
        [{"name": "n", "type": "int"}],
        "backward",
        ["new schema cannot read old data: n: type changed from long to int (not a promotion Avro allows)"],
        id="long-to-int",
    ),
    pytest.param([{"name": "s", "type": "string"}], [{"name": "s", "type": "bytes"}], "full", [], id="string-bytes"),
    pytest.param(
        [{"name": "s", "type": "string"}],
        [{"name": "s", "type": ["null", "string"], "default": None}],
        "backward",
        [],
        id="make-optional",
    ),
    pytest.param(
        [{"name": "s", "type": "string"}],
        [{"name": "s", "type": ["null", "string"], "default": None}],
        "forward",
        ["old schema cannot read new data: s: type changed from null to string (not a promotion Avro allows)"],
        id="optional-breaks-old-readers",
    ),
    pytest.param(
        [{"name": "a", "type": "int"}],
        [{"name": "a", "type": "int"}, {"name": "b", "type": "int", "default": 0}],
        "full",
        [],
        id="add-field-with-default",
    ),
    pytest.param(
        [{"name": "a", "type": "int"}],
        [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}],
        "backward",
        ["new schema cannot read old data: b: field is missing from the written data and has no default"],
        id="add-required-field",
    ),
    pytest.param(
        [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}],
        [{"name": "a", "type": "int"}],
        "forward",
        ["old schema cannot read new data: b: field is missing from the written data and has no default"],
        id="remove-field-without-default",
    ),
    pytest.param(
        [{"name": "old_name", "type": "int"}],
        [{"name": "new_name", "type": "int", "aliases": ["old_name"]}],
        "backward",
        [],
        id="rename-with-alias",
    ),
    pytest.param(
        [{"name": "e", "type": ENUM}],
        [{"name": "e", "type": {**ENUM, "symbols": ["A"]}}],
        "backward",
        [
            "new schema cannot read old data: e: enum symbol(s) ['B'] written but unknown to the reader (and it has no default)"
        ],
        id="enum-symbol-removed",
    ),
    pytest.param(
        [{"name": "e", "type": ENUM}],
        [{"name": "e", "type": {**ENUM, "symbols": ["A", "B", "C"]}}],
        "backward",
        [],
        id="enum-symbol-added",
    ),
    pytest.param(
        [{"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}}],
        [{"name": "d", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 3}}],
        "backward",
        ["new schema cannot read old data: d: decimal(10, 2) changed to decimal(10, 3)"],
        id="decimal-scale",
    ),
    pytest.param(
        [{"name": "xs", "type": {"type": "array", "items": "int"}}],
        [{"name": "xs", "type": {"type": "array", "items": "double"}}],
        "backward",
        [],
        id="array-items-promoted",
    ),
    pytest.param(
        [{"name": "m", "type": {"type": "map", "values": "string"}}],
        [{"name": "m", "type": {"type": "map", "values": "int"}}],
        "backward",
        ["new schema cannot read old data: m{}: type changed from string to int (not a promotion Avro allows)"],
        id="map-values-changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "mode", "problems"), PAIRS)
def test_compatibility_verdicts(
    tmp_path: Path, old: list[dict[str, Any]], new: list[dict[str, Any]], mode: str, problems: list[str]
) -> None:
    """The Avro specification's rules (``reader="avro"``); what Flink does is in test_avro_evolution.py."""
    old_schema, new_schema = _parse(_record(old), tmp_path, "old"), _parse(_record(new), tmp_path, "new")
    verdict = check_compatibility(old_schema, new_schema, mode, reader="avro")
    assert verdict.problems == problems
    assert verdict.compatible is (not problems)


def test_record_renamed_without_alias_is_breaking(tmp_path: Path) -> None:
    old = _parse(_record([{"name": "a", "type": "int"}], name="Click"), tmp_path, "old")
    new = _parse(_record([{"name": "a", "type": "int"}], name="ClickEvent"), tmp_path, "new")
    assert check_compatibility(old, new, "backward", reader="avro").problems == [
        "new schema cannot read old data: <root>: record Click renamed to ClickEvent without an alias"
    ]
    aliased = _parse(_record([{"name": "a", "type": "int"}], name="ClickEvent", aliases=["Click"]), tmp_path, "new2")
    assert check_compatibility(old, aliased, "backward", reader="avro").compatible
    assert check_compatibility(old, new, "backward").compatible  # Flink names its reader records itself


def test_cli_check_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_flinkbatch.cli import main

    v1, v2, v3 = (
        AVRO / name for name in ("click_v1.avsc", "click_v2_added_optional.avsc", "click_v3_required_field.avsc")
    )
    assert main(["avro", "check", str(v1), str(v2), "--reader", "avro"]) == 0
    assert capsys.readouterr().out.strip() == "backward: compatible"
    # Flink reads with a schema derived from the columns: the enum 'kind' was written as an enum
    assert main(["avro", "check", str(v1), str(v2)]) == 1
    assert capsys.readouterr().out.strip() == (
        "backward: NOT compatible\n"
        "  - new schema cannot read old data: kind: written as enum Kind; Flink's avro format reads enums as STRING, "
        "which Avro cannot resolve (AvroTypeException: Found an enum, expecting string): producers must write a string"
    )
    assert main(["avro", "check", str(v1), str(v3), "--mode", "full", "--reader", "avro"]) == 1
    assert capsys.readouterr().out.strip() == (
        "full: NOT compatible\n"
        "  - new schema cannot read old data: session_id: field is missing from the written data and has no default"
    )


def test_schema_errors_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.avsc"
    bad.write_text('{"type": "record", "name": "X", "fields": [{"name": "a", "type": "int", "default": "x"}]}')
    with pytest.raises(
        AvroSchemaError, match=r"bad.avsc: not a valid Avro schema: Default value <x> must match schema type: int"
    ):
        load_schema(bad)
    union = _parse(_record([{"name": "u", "type": ["int", "string"]}]), tmp_path, "union")
    with pytest.raises(
        AvroSchemaError, match=r"u: union of \['int', 'string'\]: Flink maps only a type or \[null, type\]"
    ):
        flink_columns(union)


def test_validate_fails_a_spec_whose_source_schema_evolved_incompatibly(tmp_path: Path) -> None:
    from airflow_provider_flinkbatch.specs.load import load_specs
    from airflow_provider_flinkbatch.specs.validate import validate_specs

    source = "sql: sql/clicks.sql\nparams: {base: /tmp/x}\nsources:\n  - table: clicks_raw\n    avro_schema: {old}\n    latest_avro_schema: {new}\n    compatibility: backward\n"
    folder = spec_folder(
        tmp_path,
        {
            "ok.yaml": source.replace("{old}", "avro/click_v1.avsc").replace(
                "{new}", "avro/click_v2_added_optional.avsc"
            ),
            "broken.yaml": source.replace("{old}", "avro/click_v1.avsc").replace(
                "{new}", "avro/click_v3_required_field.avsc"
            ),
        },
    )
    (folder / "avro").mkdir()
    for name in ("click_v1.avsc", "click_v2_added_optional.avsc", "click_v3_required_field.avsc"):
        shutil.copy(AVRO / name, folder / "avro" / name)
    report = validate_specs(load_specs(folder), explain=False, check_connections=False)
    by_name = {spec.name: spec for spec in report.specs}
    # clicks_raw in the SQL has (user_id BIGINT, page STRING): 'page' is not in the Avro schema
    page_problem = (
        "column 'page' of the SQL is not a field of the Avro schema (event_id, user_id, amount, ts, day, kind, "
        "device, tags, props, referrer, hash, value)"
    )
    # Flink reads with a schema derived from the columns, where the enum 'kind' is a STRING: an enum written
    # with v1 is unreadable for Flink whatever v2/v3 say (measured, see test_avro_evolution.py)
    enum_problem = (
        "new schema cannot read old data: kind: written as enum Kind; Flink's avro format reads enums as STRING, "
        "which Avro cannot resolve (AvroTypeException: Found an enum, expecting string): producers must write a string"
    )
    assert [str(error) for error in by_name["ok"].errors] == [
        f"jobs/ok.yaml: sources[0].avro_schema: {page_problem}",
        f"jobs/ok.yaml: sources[0].latest_avro_schema: avro/click_v2_added_optional.avsc is not "
        f"backward-compatible with avro/click_v1.avsc: {enum_problem}",
    ]
    assert [str(error) for error in by_name["broken"].errors] == [
        f"jobs/broken.yaml: sources[0].avro_schema: {page_problem}",
        f"jobs/broken.yaml: sources[0].latest_avro_schema: avro/click_v3_required_field.avsc is not "
        f"backward-compatible with avro/click_v1.avsc: {enum_problem}; new schema cannot read old data: "
        "session_id: field is missing from the written data, and Flink's avro format reads a NOT NULL column without "
        'the .avsc default or aliases: make the field nullable (["null", T]) to read NULL for old data',
    ]
    assert not report.ok


def test_a_schema_file_that_does_not_parse_is_named_with_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from airflow_provider_flinkbatch.cli import main

    broken = tmp_path / "broken.avsc"
    broken.write_text('{"type": "record",\n "name": "X", "fields": [}\n')
    assert main(["avro", "check", str(broken), str(AVRO / "click_v1.avsc")]) == 1
    assert capsys.readouterr().err.strip() == (
        f"flinkbatch: {broken}: not JSON (line 2: Expecting value); fix the file or point the spec at the right one"
    )
