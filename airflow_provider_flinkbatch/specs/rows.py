"""Test rows: read them (inline YAML, CSV, JSON), write them for Flink, read Flink's output, compare.

Comparison is order-insensitive (a multiset of rows) and value-tolerant where formats legitimately
differ: ``120.50`` equals ``120.5`` and ``"120.50"``; ``2026-01-01T10:00:00Z`` equals
``2026-01-01 10:00:00`` and ``2026-01-01 10:00:00.000``; YAML dates equal Flink's ISO dates.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from airflow_provider_flinkbatch.specs.files import SpecPathError
from airflow_provider_flinkbatch.specs.model import TableData
from airflow_provider_flinkbatch.specs.tables import DeclaredTable

Row = dict[str, Any]
_NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$")
_TIMESTAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]00:?00)?$")


class RowsError(ValueError):
    """Test rows cannot be read or do not fit the table; the message names the file/table and the fix."""


def load_rows(data: TableData, resolve: Callable[[str], Path]) -> list[Row]:
    """The rows of a test table: inline, or from a .csv/.json/.jsonl file (``resolve``: the spec's
    :meth:`~.model.JobSpec.resolve`, which keeps it inside the spec root)."""
    if data.rows is not None:
        return [dict(row) for row in data.rows]
    assert data.file is not None
    try:
        text = resolve(data.file).read_text()
    except SpecPathError as err:
        raise RowsError(str(err)) from err
    except OSError as err:
        raise RowsError(f"{data.file}: cannot read test data ({err.strerror})") from err
    if data.file.endswith(".csv"):
        reader = csv.DictReader(text.splitlines())
        return [{key: (value if value != "" else None) for key, value in row.items()} for row in reader]
    try:
        if data.file.endswith(".jsonl"):
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        rows = json.loads(text)
    except json.JSONDecodeError as err:
        raise RowsError(f"{data.file}: invalid JSON at line {err.lineno}: {err.msg}") from err
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise RowsError(f"{data.file}: expected a JSON list of objects (one per row)")
    return rows


def _flink_json_value(value: Any, kind: str) -> Any:
    """A YAML/CSV value as Flink's JSON format reads it (SQL timestamp format)."""
    upper = kind.upper()
    if isinstance(value, datetime):
        value = value.isoformat(sep=" ")
    elif isinstance(value, (date, time)):
        value = value.isoformat()
    if isinstance(value, str) and upper.startswith("TIMESTAMP"):
        match = _TIMESTAMP.match(value.strip())
        if match:
            clock = match[2] if match[2].count(":") == 2 else match[2] + ":00"
            value = f"{match[1]} {clock}{match[3] or ''}"
            if "LTZ" in upper or "LOCAL TIME ZONE" in upper:
                value += "Z"
    if isinstance(value, Decimal):
        return float(value)
    return value


def check_columns(table: DeclaredTable, rows: list[Row], what: str, ignore: Sequence[str] = ()) -> None:
    """Every row names only columns of the table; expected rows name all of them (except ``ignore``)."""
    columns = table.column_names
    for index, row in enumerate(rows):
        unknown = [key for key in row if key not in columns]
        if unknown:
            raise RowsError(f"{what}[{index}]: unknown column(s) {unknown}; {table.name} has {columns}")
        if what.startswith("expected"):
            missing = [column for column in columns if column not in row and column not in ignore]
            if missing:
                raise RowsError(
                    f"{what}[{index}]: no value for column(s) {missing}; give them (null for NULL) "
                    "or list them in ignore_columns"
                )


def write_input(table: DeclaredTable, rows: list[Row]) -> None:
    """Rows as JSON lines under the table's folder (partition columns become ``key=value`` folders)."""
    assert table.path is not None
    table.path.mkdir(parents=True, exist_ok=True)
    by_partition: dict[tuple[str, ...], list[str]] = {}
    for row in rows:
        partition = tuple(f"{key}={quote(str(row.get(key)), safe='')}" for key in table.partition_keys)
        values = {
            name: _flink_json_value(value, table.column_type(name))
            for name, value in row.items()
            if name not in table.partition_keys
        }
        by_partition.setdefault(partition, []).append(json.dumps(values, default=str))
    for partition, lines in by_partition.items():
        folder = table.path.joinpath(*partition)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part-0.json").write_text("\n".join(lines) + "\n")


def read_output(table: DeclaredTable) -> list[Row]:
    """What Flink wrote into the table's folder (hidden in-progress files skipped, partitions restored)."""
    assert table.path is not None
    rows: list[Row] = []
    if not table.path.exists():
        return rows
    for part in sorted(table.path.rglob("*")):
        if not part.is_file() or part.name.startswith((".", "_")):
            continue
        partition = {}
        for segment in part.relative_to(table.path).parts[:-1]:
            key, sep, value = segment.partition("=")
            if sep:
                partition[key] = unquote(value)
        for line in part.read_text().splitlines():
            if line.strip():
                rows.append({**json.loads(line, parse_float=Decimal), **partition})
    return rows


def canonical(value: Any) -> Any:
    """A comparable form: numbers as normalized decimals, timestamps in one text form, nested sorted."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return _number(Decimal(str(value)))
    if isinstance(value, datetime):
        return _timestamp(value.isoformat(sep=" "))
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    text = str(value)
    if _NUMBER.match(text):
        try:
            return _number(Decimal(text.strip()))
        except InvalidOperation:
            return text
    return _timestamp(text)


def _number(number: Decimal) -> str:
    normalized = number.normalize()
    return "#" + format(normalized, "f") if normalized == normalized.to_integral() else "#" + str(normalized)


def _timestamp(text: str) -> str:
    match = _TIMESTAMP.match(text.strip())
    if not match:
        return text
    clock = match[2] if match[2].count(":") == 2 else match[2] + ":00"
    fraction = (match[3] or "").rstrip("0").rstrip(".")
    return f"{match[1]} {clock}{fraction}"


def _key(row: Row, columns: list[str]) -> str:
    return json.dumps({column: canonical(row.get(column)) for column in columns}, sort_keys=True)


def show_row(row: Row, columns: list[str]) -> str:
    return ", ".join(f"{column}={_show(row.get(column))}" for column in columns)


def _show(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str)
    return str(value)


@dataclass
class TableDiff:
    """Expected vs produced rows of one sink table."""

    table: str
    columns: list[str]
    expected: int
    actual: int
    missing: list[Row] = field(default_factory=list)
    unexpected: list[Row] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.unexpected

    def describe(self, indent: str = "  ") -> str:
        head = f"{indent}{self.table}: {self.expected} row(s) expected, {self.actual} produced"
        if self.ok:
            return head + ": match"
        lines = [head + f"; {len(self.missing)} missing, {len(self.unexpected)} unexpected"]
        unexpected = list(self.unexpected)
        for row in self.missing:
            lines.append(f"{indent}  - {show_row(row, self.columns)}")
            partner = _closest(row, unexpected, self.columns)
            if partner is not None:
                unexpected.remove(partner)
                lines.append(f"{indent}  + {show_row(partner, self.columns)}")
                for column in self.columns:
                    if canonical(row.get(column)) != canonical(partner.get(column)):
                        want, got = _show(row.get(column)), _show(partner.get(column))
                        lines.append(f"{indent}      {column}: expected {want}, got {got}")
        lines += [f"{indent}  + {show_row(row, self.columns)}" for row in unexpected]
        lines.append(f"{indent}  (- expected but not produced, + produced but not expected)")
        return "\n".join(lines)


def _closest(row: Row, candidates: list[Row], columns: list[str]) -> Row | None:
    """The produced row sharing most values with a missing one (at least half): shown as a pair."""
    best, best_score = None, len(columns) / 2
    for candidate in candidates:
        score = sum(canonical(row.get(c)) == canonical(candidate.get(c)) for c in columns)
        if score >= best_score and score < len(columns):
            best, best_score = candidate, score + 0.001
    return best


def compare(
    table: str, columns: list[str], expected: list[Row], actual: list[Row], ignore: Sequence[str] = ()
) -> TableDiff:
    """Multiset comparison on ``columns`` minus ``ignore``."""
    compared = [column for column in columns if column not in ignore]
    want = Counter(_key(row, compared) for row in expected)
    got = Counter(_key(row, compared) for row in actual)
    missing_keys = want - got
    unexpected_keys = got - want
    diff = TableDiff(table=table, columns=compared, expected=len(expected), actual=len(actual))
    for rows, keys, out in ((expected, missing_keys, diff.missing), (actual, unexpected_keys, diff.unexpected)):
        remaining = Counter(keys)
        for row in rows:
            key = _key(row, compared)
            if remaining[key] > 0:
                remaining[key] -= 1
                out.append(row)
    return diff
