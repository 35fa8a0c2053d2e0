"""Rewrite the tables a script declares into local filesystem tables, leaving the SQL itself untouched.

Why: a spec's test (and ``validate``'s EXPLAIN) must run the production SQL, but not against Kafka,
JDBC or the production bucket. Only the ``WITH (...)`` options of each ``CREATE TABLE`` change: they
become ``filesystem`` + ``json`` under a scratch folder; columns, types, ``PARTITIONED BY``, watermarks
and every query stay exactly as written. Two column kinds change because filesystem tables cannot
provide them: a ``METADATA`` column becomes a plain physical column a test can fill in (a ``VIRTUAL``
one, which a sink does not write, becomes a NULL computed column).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

# One place for reading CREATE TABLE statements: reuse the lineage parser's pieces.
from airflow_provider_flinkbatch.lineage import _CREATE, _bare, _columns, _matching_paren

_WITH = re.compile(r"\bWITH\s*\(", re.IGNORECASE)
_PARTITIONED = re.compile(r"\bPARTITIONED\s+BY\s*\(([^)]*)\)", re.IGNORECASE)
_METADATA = re.compile(
    r"^\s*(?P<name>`[^`]+`|\w+)\s+(?P<type>.+?)\s+METADATA(?:\s+FROM\s+'(?:[^']|'')*')?(?P<virtual>\s+VIRTUAL)?\s*$",
    re.IGNORECASE | re.DOTALL,
)


class TableRewriteError(ValueError):
    """A table cannot be swapped for a local one (no ``WITH`` clause: a catalog table)."""


@dataclass
class DeclaredTable:
    """A ``CREATE TABLE`` of the script: its name, columns, partition keys and where its data now lives."""

    name: str
    columns: list[tuple[str, str]]
    partition_keys: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def column_type(self, name: str) -> str:
        return next((kind for column, kind in self.columns if column == name), "")


def _split_top_level(body: str) -> list[str]:
    parts, depth, current, quote = [], 0, "", False
    for char in body:
        if char == "'":
            quote = not quote
        if not quote:
            depth += {"(": 1, "<": 1, ")": -1, ">": -1}.get(char, 0)
        if char == "," and depth == 0 and not quote:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _local_columns(body: str) -> str:
    """Column list with METADATA columns turned into columns a filesystem table can hold."""
    out = []
    for part in _split_top_level(body):
        match = _METADATA.match(part)
        if match is None:
            out.append(part)
        elif match["virtual"]:
            out.append(f"\n    {match['name']} AS CAST(NULL AS {match['type'].strip()})")
        else:
            out.append(f"\n    {match['name']} {match['type'].strip()}")
    return ",".join(out)


def local_options(path: Path) -> str:
    """The ``WITH`` options of a local JSON table (decimals written as plain numbers, not 1E+2)."""
    options = {
        "connector": "filesystem",
        "path": path.resolve().as_uri(),
        "format": "json",
        "json.encode.decimal-as-plain-number": "true",
    }
    return ",\n  ".join(f"'{key}' = '{value.replace(chr(39), chr(39) * 2)}'" for key, value in options.items())


def declared_tables(statements: Sequence[str]) -> dict[str, DeclaredTable]:
    """Tables declared with ``CREATE TABLE`` in the script, by lower-cased name."""
    found: dict[str, DeclaredTable] = {}
    for statement in statements:
        match = _CREATE.match(statement)
        if not match:
            continue
        close = _matching_paren(statement, match.end() - 1)
        rest = statement[close + 1 :]
        partitioned = _PARTITIONED.search(_WITH.split(rest, maxsplit=1)[0])
        keys = [key.strip().strip("`") for key in partitioned.group(1).split(",")] if partitioned else []
        name = _bare(match["name"])
        found[name.lower()] = DeclaredTable(
            name=name, columns=_columns(statement[match.end() : close]), partition_keys=keys
        )
    return found


def rewrite_to_local(statements: Sequence[str], folder: Path) -> tuple[list[str], dict[str, DeclaredTable]]:
    """The script with every declared table stored as JSON under ``folder/<table>/``."""
    rewritten: list[str] = []
    tables: dict[str, DeclaredTable] = {}
    for statement in statements:
        match = _CREATE.match(statement)
        if not match:
            rewritten.append(statement)
            continue
        name = _bare(match["name"])
        close = _matching_paren(statement, match.end() - 1)
        rest = statement[close + 1 :]
        with_clause = _WITH.search(rest)
        if with_clause is None:
            raise TableRewriteError(
                f"table {name}: CREATE TABLE without WITH (...) options cannot be redirected to test data"
            )
        options_open = close + 1 + with_clause.end() - 1
        options_close = _matching_paren(statement, options_open)
        table = declared_tables([statement])[name.lower()]
        table.path = folder / name
        tables[name.lower()] = table
        rewritten.append(
            statement[: match.end()]
            + _local_columns(statement[match.end() : close])
            + statement[close:options_open]
            + "(\n  "
            + local_options(table.path)
            + "\n)"
            + statement[options_close + 1 :]
        )
    return rewritten, tables
