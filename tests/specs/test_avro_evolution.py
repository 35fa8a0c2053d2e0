"""Avro schema evolution on real data: files written with an old schema, read by Flink with the new one.

For each evolution, fastavro writes an Avro container file with the old schema; a Flink job on the local
cluster reads it through a table declared from the new schema (``flinkbatch avro ddl``), and
``flinkbatch avro check`` must give the verdict Flink's outcome shows. The expected outcomes below are what
Flink 2.3 does (docs/specs.md has the table); where the plain Avro specification would say otherwise, the
``avro`` column says so.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import make_request

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.jobs import root_cause_from_exceptions
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.specs.avro import flink_columns, load_schema
from airflow_provider_flinkbatch.specs.testing import SpecTestRunner

pytestmark = pytest.mark.integration

V1: dict[str, Any] = {
    "type": "record",
    "name": "Click",
    "namespace": "com.example",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "page", "type": "string"},
        {"name": "clicks", "type": "int"},
        {"name": "ref", "type": ["null", "string"], "default": None},
    ],
}
ROWS = [{"id": 1, "page": "/a", "clicks": 3, "ref": None}, {"id": 2, "page": "/b", "clicks": 5, "ref": "/a"}]
KIND = {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["VIEW", "CLICK"]}}


def _field(fields: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(f for f in fields if f["name"] == name)


def _evolve(base: dict[str, Any], change: Any) -> dict[str, Any]:
    schema = copy.deepcopy(base)
    change(schema["fields"])
    return schema


WITH_ENUM = _evolve(V1, lambda fs: fs.append(KIND))
ENUM_ROWS = [{**ROWS[0], "kind": "VIEW"}, {**ROWS[1], "kind": "CLICK"}]

# name: (old schema, rows written, change to get the new schema, Flink's outcome, Avro spec's verdict)
#   Flink's outcome: the rows Flink reads, or the AvroTypeException message it fails with
CASES: dict[str, tuple[dict[str, Any], list[dict[str, Any]], Any, Any, bool]] = {
    "add_field_with_default": (
        V1, ROWS, lambda fs: fs.append({"name": "country", "type": "string", "default": "unknown"}),
        "missing required field country", True,
    ),
    "add_field_without_default": (
        V1, ROWS, lambda fs: fs.append({"name": "country", "type": "string"}),
        "missing required field country", False,
    ),
    "add_nullable_field": (
        V1, ROWS, lambda fs: fs.append({"name": "country", "type": ["null", "string"], "default": None}),
        [{**row, "country": None} for row in ROWS], True,
    ),
    "remove_field": (
        V1, ROWS, lambda fs: fs.remove(_field(fs, "page")),
        [{k: v for k, v in row.items() if k != "page"} for row in ROWS], True,
    ),
    "rename_with_alias": (
        V1, ROWS, lambda fs: _field(fs, "page").update({"name": "path", "aliases": ["page"]}),
        "missing required field path", True,
    ),
    "widen_int_to_long": (V1, ROWS, lambda fs: _field(fs, "clicks").update({"type": "long"}), ROWS, True),
    "narrow_long_to_int": (
        V1, ROWS, lambda fs: _field(fs, "id").update({"type": "int"}), "Found long, expecting int", False,
    ),
    "make_nullable": (
        V1, ROWS, lambda fs: _field(fs, "page").update({"type": ["null", "string"], "default": None}), ROWS, True,
    ),
    "make_required": (
        V1, ROWS, lambda fs: (_field(fs, "ref").update({"type": "string"}), _field(fs, "ref").pop("default")),
        "Found null, expecting string", False,
    ),
    "string_to_enum": (
        V1, ROWS,
        lambda fs: _field(fs, "page").update({"type": {"type": "enum", "name": "Page", "symbols": ["a", "b"]}}),
        ROWS, False,
    ),
    "enum_add_symbol": (
        WITH_ENUM, ENUM_ROWS, lambda fs: _field(fs, "kind")["type"].update({"symbols": ["VIEW", "CLICK", "SHARE"]}),
        "Found com.example.Kind, expecting string", True,
    ),
    "enum_to_string": (
        WITH_ENUM, ENUM_ROWS, lambda fs: _field(fs, "kind").update({"type": "string"}),
        "Found com.example.Kind, expecting string", False,
    ),
}  # fmt: skip


def _submit_read(target: Any, data: Path, new: Any, out: Path, name: str) -> Any:
    """Submit a job reading ``data`` through a table declared from ``new`` into JSON files under ``out``."""
    columns = flink_columns(new)
    source = ", ".join(f"{column} {kind}" for column, kind in columns)
    sink = ", ".join(f"{column} {kind.replace(' NOT NULL', '')}" for column, kind in columns)
    sql = (
        f"CREATE TABLE old_data ({source}) WITH ('connector' = 'filesystem', 'path' = '{data.as_uri()}', "
        "'format' = 'avro');\n"
        f"CREATE TABLE read_back ({sink}) WITH ('connector' = 'filesystem', 'path' = '{out.as_uri()}', "
        "'format' = 'json');\n"
        "INSERT INTO read_back SELECT * FROM old_data;"
    )
    return target.submit(make_request(sql, f"avro-evolution-{name}"))


def _flink_reads(target: Any, handle: Any, out: Path, name: str) -> list[dict[str, Any]] | str:
    """Rows the job read, or the error it failed with."""
    deadline = time.monotonic() + 300
    while (state := target.job_details(handle)["state"]) not in ("FINISHED", "FAILED", "CANCELED"):
        assert time.monotonic() < deadline, f"{name}: job still {state}"
        time.sleep(0.3)
    if state != "FINISHED":
        cause = root_cause_from_exceptions(target.job_exceptions(handle))
        assert cause is not None
        return f"{cause.exception_class}: {cause.message}"
    parts = [p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return sorted((json.loads(line) for part in parts for line in part.read_text().splitlines()), key=lambda r: r["id"])


def test_avro_check_agrees_with_what_flink_reads(
    flink_cluster: LocalClusterInfo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import fastavro

    target = SpecTestRunner(flink_cluster.rest_url).target()
    handles = {}
    for name, (old, rows, change, _, _) in CASES.items():  # all jobs first: they queue on the cluster's slots
        folder = tmp_path / name
        (folder / "data").mkdir(parents=True)
        with (folder / "data" / "part-0.avro").open("wb") as out:
            fastavro.writer(out, fastavro.parse_schema(copy.deepcopy(old)), rows)
        (folder / "old.avsc").write_text(json.dumps(old))
        (folder / "new.avsc").write_text(json.dumps(_evolve(old, change)))
        handles[name] = _submit_read(target, folder / "data", load_schema(folder / "new.avsc"), folder / "out", name)
    table = []
    for name, (_, _, _, flink_outcome, avro_verdict) in CASES.items():
        folder = tmp_path / name
        outcome = _flink_reads(target, handles[name], folder / "out", name)
        if isinstance(flink_outcome, str):
            assert isinstance(outcome, str) and "AvroTypeException" in outcome and flink_outcome in outcome, (
                name,
                outcome,
            )
        else:
            assert outcome == flink_outcome, name
        flink_reads = not isinstance(flink_outcome, str)

        checks = {}
        for reader in ("flink", "avro"):
            code = main(["avro", "check", str(folder / "old.avsc"), str(folder / "new.avsc"), "--reader", reader])
            checks[reader] = code == 0
            capsys.readouterr()
        assert checks == {"flink": flink_reads, "avro": avro_verdict}, name
        table.append((name, flink_reads, avro_verdict))
    print("\n".join(f"{name:28} flink reads: {reads!s:5}  avro spec: {spec}" for name, reads, spec in table))
    # where the specification and Flink disagree, the default (flink) verdict follows Flink
    assert [name for name, reads, spec in table if reads != spec] == [
        "add_field_with_default",
        "rename_with_alias",
        "string_to_enum",
        "enum_add_symbol",
    ]
