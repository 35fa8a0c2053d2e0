"""OpenLineage datasets of a Flink SQL job, read from the script's own table definitions.

What is detected: tables declared in the script (``CREATE [TEMPORARY] TABLE name (...) WITH (...)``);
``INSERT INTO|OVERWRITE <table>`` makes a table an output; a declared table named after ``FROM`` or
``JOIN`` in an INSERT's query makes it an input. Each dataset is named from its connector options,
following OpenLineage's naming conventions where one applies:

=====================  ==========================================  ========================
connector              namespace                                   name
=====================  ==========================================  ========================
filesystem (file/no    ``file``                                    the path
scheme)
filesystem (s3, gs,    ``s3://bucket`` / ``gs://bucket`` / ...     the path inside it
hdfs, abfs ...)
kafka / upsert-kafka   ``kafka://<first bootstrap server>``        the topic
jdbc                   the JDBC URL without ``jdbc:`` and options  ``table-name``
anything else          ``flink://<connector>``                     the table name
=====================  ==========================================  ========================

Not detected: tables from catalogs (Hive, Iceberg, Paimon: no ``WITH`` in the script), views (their
underlying tables are not followed), and tables named only inside sub-queries of non-INSERT statements.
Columns come from the ``CREATE TABLE`` column list (computed columns and constraints are skipped).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from airflow_provider_flinkbatch.sql.statements import split_statements

_CREATE = re.compile(
    r"^\s*CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>[`\w.]+)\s*\(", re.IGNORECASE
)
_INSERT = re.compile(r"^\s*INSERT\s+(?:INTO|OVERWRITE)\s+(?:TABLE\s+)?(?P<name>[`\w.]+)", re.IGNORECASE)
_FROM_JOIN = re.compile(r"\b(?:FROM|JOIN)\s+(?P<name>[`\w.]+)", re.IGNORECASE)
_OPTION = re.compile(r"'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'")
_NOT_COLUMNS = ("PRIMARY", "WATERMARK", "CONSTRAINT", "PERIOD", "LIKE")


class LineageTable(BaseModel):
    """One table of the script as a dataset: where it lives and its declared columns."""

    table: str
    namespace: str
    name: str
    connector: str | None = None
    columns: list[tuple[str, str]] = []


class JobLineage(BaseModel):
    inputs: list[LineageTable] = []
    outputs: list[LineageTable] = []


def _bare(name: str) -> str:
    return name.replace("`", "").split(".")[-1]


def _matching_paren(text: str, start: int) -> int:
    depth, quote = 0, False
    for i in range(start, len(text)):
        char = text[i]
        if char == "'":
            quote = not quote
        elif not quote and char == "(":
            depth += 1
        elif not quote and char == ")":
            depth -= 1
            if depth == 0:
                return i
    return len(text)


def _columns(body: str) -> list[tuple[str, str]]:
    columns, depth, current = [], 0, ""
    for char in body + ",":
        depth += {"(": 1, "<": 1, ")": -1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts = current.strip().split(None, 1)
            if len(parts) == 2 and parts[0].upper() not in _NOT_COLUMNS and not parts[1].upper().startswith("AS "):
                columns.append((parts[0].strip("`"), parts[1].split(" COMMENT ")[0].strip()))
            current = ""
        else:
            current += char
    return columns


def dataset_for(table: str, options: dict[str, str]) -> tuple[str, str]:
    """``(namespace, name)`` of a table from its connector options (see the module table)."""
    connector = options.get("connector", "")
    if connector == "filesystem" and options.get("path"):
        url = urlsplit(options["path"])
        if url.scheme in ("", "file"):
            return "file", url.path
        return f"{url.scheme}://{url.netloc}", url.path.lstrip("/")
    if connector in ("kafka", "upsert-kafka") and options.get("topic"):
        server = options.get("properties.bootstrap.servers", "unknown").split(",")[0].strip()
        return f"kafka://{server}", options["topic"]
    if connector == "jdbc" and options.get("url"):
        return options["url"].removeprefix("jdbc:").split("?")[0], options.get("table-name", table)
    return f"flink://{connector or 'unknown'}", table


def job_lineage(statements: Sequence[str]) -> JobLineage:
    """Inputs and outputs of a split Flink SQL script."""
    declared: dict[str, LineageTable] = {}
    for statement in statements:
        match = _CREATE.match(statement)
        if not match:
            continue
        close = _matching_paren(statement, match.end() - 1)
        options = {
            key.replace("''", "'"): value.replace("''", "'") for key, value in _OPTION.findall(statement[close:])
        }
        table = _bare(match["name"])
        namespace, name = dataset_for(table, options)
        declared[table.lower()] = LineageTable(
            table=table,
            namespace=namespace,
            name=name,
            connector=options.get("connector"),
            columns=_columns(statement[match.end() : close]),
        )
    inputs: dict[str, LineageTable] = {}
    outputs: dict[str, LineageTable] = {}
    for statement in statements:
        insert = _INSERT.match(statement)
        if not insert:
            continue
        target = _bare(insert["name"]).lower()
        outputs[target] = declared.get(target) or LineageTable(
            table=_bare(insert["name"]), namespace="flink://catalog", name=_bare(insert["name"])
        )
        for source in _FROM_JOIN.finditer(statement[insert.end() :]):
            key = _bare(source["name"]).lower()
            if key in declared and key != target:
                inputs[key] = declared[key]
    return JobLineage(inputs=list(inputs.values()), outputs=list(outputs.values()))


def openlineage_facets(lineage: JobLineage) -> Any:
    """The ``OperatorLineage`` Airflow's OpenLineage provider expects (the provider is optional)."""
    # apache-airflow-providers-openlineage is optional: loaded only when lineage is asked for.
    from airflow.providers.common.compat.openlineage.facet import Dataset, SchemaDatasetFacet, SchemaDatasetFacetFields
    from airflow.providers.openlineage.extractors import OperatorLineage

    def dataset(table: LineageTable) -> Any:
        facets: dict[str, Any] = {}
        if table.columns:
            fields = [SchemaDatasetFacetFields(name=name, type=kind) for name, kind in table.columns]
            facets["schema"] = SchemaDatasetFacet(fields=fields)
        return Dataset(namespace=table.namespace, name=table.name, facets=facets)

    return OperatorLineage(
        inputs=[dataset(table) for table in lineage.inputs], outputs=[dataset(table) for table in lineage.outputs]
    )


def facets_of_script(sql: str) -> Any:
    """The OpenLineage facets of a SQL script; ``None`` without ``apache-airflow-providers-openlineage``."""
    try:
        return openlineage_facets(job_lineage(split_statements(sql)))
    except ImportError:
        return None
