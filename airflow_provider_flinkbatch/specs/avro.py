"""Avro schemas for Flink SQL jobs: the ``CREATE TABLE`` column list, and schema-evolution checks.

Parsing is fastavro's (``parse_schema``: names resolved, defaults checked), imported only when a command
needs it, never at DAG parse time.

Type mapping (Flink's ``avro`` format, non-legacy timestamp mapping):

=====================================  =====================================
Avro                                   Flink SQL
=====================================  =====================================
null-union ``["null", T]``             T, nullable (other types get NOT NULL)
boolean / int / long / float / double  BOOLEAN / INT / BIGINT / FLOAT / DOUBLE
string, enum, uuid                     STRING
bytes / fixed(n)                       BYTES / BINARY(n)
decimal(p, s) on bytes or fixed        DECIMAL(p, s)
date                                   DATE
time-millis / time-micros              TIME(3) / TIME(6)
timestamp-millis / -micros             TIMESTAMP_LTZ(3) / TIMESTAMP_LTZ(6)
local-timestamp-millis / -micros       TIMESTAMP(3) / TIMESTAMP(6)
record                                 ROW<name TYPE, ...>
array / map                            ARRAY<T> / MAP<STRING, T>
=====================================  =====================================

Flink's avro format defaults to the *legacy* mapping (``'avro.timestamp_mapping.legacy' = 'true'``),
where timestamp-millis reads as TIMESTAMP(3); the LTZ mapping above is the one that keeps the instant.

Compatibility follows the Avro specification's schema resolution: a *reader* schema can read data
written with a *writer* schema when every reader field is in the writer's data or has a default,
types match or are promotable (int -> long -> float -> double, string <-> bytes), unions resolve
branch by branch, enum symbols written are known to the reader (or the reader has a default), and named
types keep their name (or the reader lists the old name in ``aliases``). ``backward`` = the new schema
reads old data, ``forward`` = the old schema reads new data, ``full`` = both.

What Flink does differs (measured on Flink 2.3 reading Avro files written with an older schema, see
docs/specs.md): its ``avro`` format does not read with the ``.avsc`` but with a schema it derives from
the table's columns (:func:`flink_reader_schema`), so the reader's defaults and aliases are gone (only a
nullable column reads a missing field as NULL), record names are not compared, and enums become strings
(an enum *written* is then unreadable: ``AvroTypeException: Found <Enum>, expecting string``). The check
models that reader by default (``reader="flink"``); ``reader="avro"`` applies the plain specification.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRIMITIVES = {
    "boolean": "BOOLEAN",
    "int": "INT",
    "long": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "string": "STRING",
    "bytes": "BYTES",
    "null": "NULL",
}
_LOGICAL = {
    "date": "DATE",
    "time-millis": "TIME(3)",
    "time-micros": "TIME(6)",
    "timestamp-millis": "TIMESTAMP_LTZ(3)",
    "timestamp-micros": "TIMESTAMP_LTZ(6)",
    "local-timestamp-millis": "TIMESTAMP(3)",
    "local-timestamp-micros": "TIMESTAMP(6)",
    "uuid": "STRING",
}
_PROMOTIONS = {
    "int": {"long", "float", "double"},
    "long": {"float", "double"},
    "float": {"double"},
    "string": {"bytes"},
    "bytes": {"string"},
}


class AvroSchemaError(ValueError):
    """The schema file is unreadable, not valid Avro, or has a type Flink cannot map."""


def load_schema(path: Path) -> Any:
    """The parsed (fastavro, named types expanded) schema of an ``.avsc`` file."""
    try:
        # fastavro: optional extra [avro], loaded only for .avsc schemas.
        import fastavro
    except ImportError as err:
        raise AvroSchemaError("the Avro tools need fastavro: pip install 'airflow-provider-flinkbatch[avro]'") from err

    try:
        raw = json.loads(path.read_text())
    except OSError as err:
        raise AvroSchemaError(f"{path}: cannot read the schema ({err.strerror})") from err
    except json.JSONDecodeError as err:
        raise AvroSchemaError(
            f"{path}: not JSON (line {err.lineno}: {err.msg}); fix the file or point the spec at the right one"
        ) from err
    try:
        return fastavro.parse_schema(raw, expand=True, _write_hint=False)
    except Exception as err:  # fastavro raises SchemaParseException, UnknownType, ValueError...
        raise AvroSchemaError(f"{path}: not a valid Avro schema: {err}") from err


def _quote(name: str) -> str:
    """Always quoted: Flink reserves many everyday words (``hash``, ``value``, ``day``, ``views``...)."""
    return f"`{name.replace('`', '``')}`"


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def flink_type(schema: Any, path: str = "", _seen: tuple[str, ...] = ()) -> tuple[str, bool]:
    """``(Flink type, nullable)`` of an Avro schema."""
    if isinstance(schema, list):
        branches = [branch for branch in schema if branch != "null"]
        if len(branches) != 1:
            shown = [b if isinstance(b, str) else b.get("type") for b in branches]
            raise AvroSchemaError(
                f"{path or 'schema'}: union of {shown}: Flink maps only a type or [null, type]; use a record"
            )
        kind, _ = flink_type(branches[0], path, _seen)
        return kind, len(branches) != len(schema)
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return PRIMITIVES[schema], schema == "null"
        raise AvroSchemaError(f"{path}: recursive type {schema!r}: Flink rows cannot nest themselves")
    kind = schema.get("type")
    logical = schema.get("logicalType")
    if logical == "decimal" and kind in ("bytes", "fixed"):
        return f"DECIMAL({schema['precision']}, {schema.get('scale', 0)})", False
    if logical in _LOGICAL:
        return _LOGICAL[logical], False
    if kind in PRIMITIVES:
        return PRIMITIVES[kind], kind == "null"
    if kind == "enum":
        return "STRING", False
    if kind == "fixed":
        return f"BINARY({schema['size']})", False
    if kind == "array":
        return f"ARRAY<{_with_null(*flink_type(schema['items'], path + '[]', _seen))}>", False
    if kind == "map":
        return f"MAP<STRING, {_with_null(*flink_type(schema['values'], path + '{}', _seen))}>", False
    if kind == "record":
        name = schema.get("name", "")
        if name in _seen:
            raise AvroSchemaError(f"{path}: recursive type {name!r}: Flink rows cannot nest themselves")
        fields = [
            f"{_quote(f['name'])} {_with_null(*flink_type(f['type'], _join(path, f['name']), (*_seen, name)))}"
            for f in schema["fields"]
        ]
        return f"ROW<{', '.join(fields)}>", False
    raise AvroSchemaError(f"{path}: Avro type {kind!r} has no Flink SQL equivalent")


def _with_null(kind: str, nullable: bool) -> str:
    return kind if nullable else f"{kind} NOT NULL"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def flink_columns(schema: Any) -> list[tuple[str, str]]:
    """``[(column, type)]`` of a top-level record schema (one column per field)."""
    if not isinstance(schema, dict) or schema.get("type") != "record":
        raise AvroSchemaError("the top-level schema must be a record (its fields become the table's columns)")
    return [
        (_quote(f["name"]), _with_null(*flink_type(f["type"], f["name"], (schema.get("name", ""),))))
        for f in schema["fields"]
    ]


def create_table_ddl(table: str, schema: Any, options: dict[str, str] | None = None) -> str:
    """A ``CREATE TABLE`` for the schema, with the given ``WITH`` options (avro format by default)."""
    options = options or {"connector": "filesystem", "path": "<path>", "format": "avro"}
    columns = ",\n".join(f"    {name} {kind}" for name, kind in flink_columns(schema))
    with_options = ",\n".join(f"    '{key}' = '{value}'" for key, value in options.items())
    return f"CREATE TABLE {_quote(table)} (\n{columns}\n) WITH (\n{with_options}\n);"


# ---------------------------------------------------------------------------------------------- SQL vs Avro
_SAME_KIND = {
    "VARCHAR": "STRING",
    "CHAR": "STRING",
    "TIMESTAMP_LTZ": "TIMESTAMP",
    "VARBINARY": "BYTES",
    "BINARY": "BYTES",
}


def _base(kind: str) -> str:
    head = re.split(r"[\s(<]", kind.strip().upper(), maxsplit=1)[0]
    if kind.strip().upper().startswith("TIMESTAMP") and "LOCAL TIME ZONE" in kind.upper():
        head = "TIMESTAMP_LTZ"
    return _SAME_KIND.get(head, head)


def sql_column_problems(columns: list[tuple[str, str]], schema: Any) -> list[str]:
    """Columns of a ``CREATE TABLE`` that the declared Avro schema does not have or types differently."""
    try:
        avro = {name.strip("`"): kind for name, kind in flink_columns(schema)}
    except AvroSchemaError as err:
        return [str(err)]
    problems = []
    for name, kind in columns:
        if re.search(r"\bMETADATA\b", kind, re.IGNORECASE):  # Kafka key/timestamp/headers: not in the value
            continue
        if name not in avro:
            problems.append(f"column {name!r} of the SQL is not a field of the Avro schema ({', '.join(avro)})")
        elif _base(kind) != _base(avro[name]):
            problems.append(f"column {name!r}: the SQL declares {kind}, the Avro schema gives {avro[name]}")
    return problems


# ---------------------------------------------------------------------------------------------- compatibility
@dataclass
class Compatibility:
    """The verdict of one check; ``problems`` say which field breaks and why."""

    mode: str
    compatible: bool
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        verdict = "compatible" if self.compatible else "NOT compatible"
        lines = [f"{self.mode}: {verdict}"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines += [f"  ! {warning}" for warning in self.warnings]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "compatible": self.compatible, "problems": self.problems, "warnings": self.warnings}


def _type_of(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, str):
        return schema if schema in PRIMITIVES else "named"
    return str(schema.get("type"))


def _describe(schema: Any) -> str:
    if isinstance(schema, list):
        return "[" + ", ".join(_describe(branch) for branch in schema) + "]"
    if isinstance(schema, str):
        return schema
    kind = str(schema.get("type"))
    if schema.get("logicalType"):
        return f"{kind} ({schema['logicalType']})"
    if kind in ("record", "enum", "fixed"):
        return f"{kind} {_short(schema.get('name', ''))}"
    return kind


_ANY_NAME = "*"  # a reader record that takes any writer record name (Flink names its records itself)


def _names_match(reader: Any, writer: Any) -> bool:
    if reader.get("name") == _ANY_NAME:
        return True
    writer_name = _short(writer.get("name", ""))
    return writer_name == _short(reader.get("name", "")) or writer_name in {
        _short(alias) for alias in reader.get("aliases", [])
    }


def reading_problems(reader: Any, writer: Any, path: str = "", warnings: list[str] | None = None) -> list[str]:
    """Why data written with ``writer`` cannot be read with ``reader`` (empty: it can)."""
    warnings = warnings if warnings is not None else []
    where = path or "<root>"
    reader_kind, writer_kind = _type_of(reader), _type_of(writer)
    if writer_kind == "union":
        problems: list[str] = []
        for branch in writer:
            problems += reading_problems(reader, branch, path, warnings)
        return problems
    if reader_kind == "union":
        for branch in reader:
            if not reading_problems(branch, writer, path, []):
                return []
        return [f"{where}: written as {_describe(writer)}, which no branch of the reader's {_describe(reader)} reads"]
    if reader_kind == "named" or writer_kind == "named":  # a recursive reference: compare by name
        same = _short(reader if isinstance(reader, str) else reader.get("name", "")) == _short(
            writer if isinstance(writer, str) else writer.get("name", "")
        )
        return [] if same else [f"{where}: type {_describe(writer)} cannot be read as {_describe(reader)}"]
    if reader_kind != writer_kind:
        if reader_kind in _PROMOTIONS.get(writer_kind, set()):
            return []
        if writer_kind == "enum" and reader_kind == "string" and isinstance(reader, dict) and reader.get(_FLINK):
            return [
                f"{where}: written as {_describe(writer)}; Flink's avro format reads enums as STRING, which Avro "
                "cannot resolve (AvroTypeException: Found an enum, expecting string): producers must write a string"
            ]
        return [f"{where}: type changed from {_describe(writer)} to {_describe(reader)} (not a promotion Avro allows)"]
    if isinstance(reader, dict) and isinstance(writer, dict):
        reader_logical, writer_logical = reader.get("logicalType"), writer.get("logicalType")
        if reader_logical == writer_logical == "decimal" and (reader.get("precision"), reader.get("scale", 0)) != (
            writer.get("precision"),
            writer.get("scale", 0),
        ):
            return [
                f"{where}: decimal({writer.get('precision')}, {writer.get('scale', 0)}) changed to "
                f"decimal({reader.get('precision')}, {reader.get('scale', 0)})"
            ]
        if reader_logical != writer_logical:
            warnings.append(
                f"{where}: logical type changed from {writer_logical or 'none'} to {reader_logical or 'none'} "
                "(Avro resolves it, but values are interpreted differently)"
            )
    if reader_kind == "record":
        return _record_problems(reader, writer, path, warnings)
    if reader_kind == "enum":
        if not _names_match(reader, writer):
            return [f"{where}: enum {_short(writer['name'])} renamed to {_short(reader['name'])} without an alias"]
        unknown = [symbol for symbol in writer["symbols"] if symbol not in reader["symbols"]]
        if unknown and reader.get("default") is None:
            return [f"{where}: enum symbol(s) {unknown} written but unknown to the reader (and it has no default)"]
        return []
    if reader_kind == "fixed":
        if not _names_match(reader, writer):
            return [f"{where}: fixed {_short(writer['name'])} renamed to {_short(reader['name'])} without an alias"]
        if reader["size"] != writer["size"]:
            return [f"{where}: fixed size changed from {writer['size']} to {reader['size']}"]
        return []
    if reader_kind == "array":
        return reading_problems(reader["items"], writer["items"], f"{path}[]", warnings)
    if reader_kind == "map":
        return reading_problems(reader["values"], writer["values"], f"{path}{{}}", warnings)
    return []


def _record_problems(reader: Any, writer: Any, path: str, warnings: list[str]) -> list[str]:
    where = path or "<root>"
    if not _names_match(reader, writer):
        return [f"{where}: record {_short(writer['name'])} renamed to {_short(reader['name'])} without an alias"]
    written = {f["name"]: f for f in writer["fields"]}
    problems: list[str] = []
    for reader_field in reader["fields"]:
        names = [reader_field["name"], *reader_field.get("aliases", [])]
        writer_field = next((written[name] for name in names if name in written), None)
        field_path = _join(path, reader_field["name"])
        if writer_field is None:
            if "default" in reader_field:
                continue
            if reader.get("name") == _ANY_NAME:  # Flink's reader: the .avsc default and aliases are not used
                problems.append(
                    f"{field_path}: field is missing from the written data, and Flink's avro format reads a NOT NULL "
                    'column without the .avsc default or aliases: make the field nullable (["null", T]) to read '
                    "NULL for old data"
                )
            else:
                problems.append(f"{field_path}: field is missing from the written data and has no default")
            continue
        problems += reading_problems(reader_field["type"], writer_field["type"], field_path, warnings)
    return problems


_FLINK = "flinkbatch.flink-reader"  # marks the parts of a schema that flink_reader_schema derived


def flink_reader_schema(schema: Any) -> Any:
    """The reader schema Flink's ``avro`` format uses for a table whose columns come from ``schema``.

    Flink derives it from the table's SQL types (``flinkbatch avro ddl``), so what those cannot hold is
    lost: field defaults (a nullable field gets ``null``, a NOT NULL one none), aliases, record names (Avro
    does not compare them when reading), enums (STRING). Verified against Flink 2.3 reading real files.
    """
    if isinstance(schema, list):
        return [flink_reader_schema(branch) for branch in schema]
    if isinstance(schema, str) or not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    if kind == "enum":
        return {"type": "string", _FLINK: True}
    if kind == "record":
        fields = []
        for f in schema["fields"]:
            converted: dict[str, Any] = {"name": f["name"], "type": flink_reader_schema(f["type"])}
            if isinstance(f["type"], list) and "null" in f["type"]:
                converted["default"] = None
            fields.append(converted)
        return {"type": "record", "name": _ANY_NAME, "fields": fields}
    if kind == "array":
        return {**schema, "items": flink_reader_schema(schema["items"])}
    if kind == "map":
        return {**schema, "values": flink_reader_schema(schema["values"])}
    return schema


def check_compatibility(old: Any, new: Any, mode: str = "backward", reader: str = "flink") -> Compatibility:
    """Compatibility of ``new`` relative to ``old``: backward, forward or full.

    ``reader="flink"`` (default): the reading side is Flink's avro format (:func:`flink_reader_schema`);
    ``reader="avro"``: the reading side uses the ``.avsc`` itself, as the Avro specification describes.
    """
    if mode not in ("backward", "forward", "full"):
        raise ValueError(f"mode {mode!r}: use backward, forward or full")
    if reader not in ("flink", "avro"):
        raise ValueError(f"reader {reader!r}: use flink or avro")
    as_reader = flink_reader_schema if reader == "flink" else (lambda schema: schema)
    warnings: list[str] = []
    problems: list[str] = []
    if mode in ("backward", "full"):
        problems += [
            f"new schema cannot read old data: {p}" for p in reading_problems(as_reader(new), old, "", warnings)
        ]
    if mode in ("forward", "full"):
        problems += [
            f"old schema cannot read new data: {p}" for p in reading_problems(as_reader(old), new, "", warnings)
        ]
    return Compatibility(mode=mode, compatible=not problems, problems=problems, warnings=sorted(set(warnings)))
