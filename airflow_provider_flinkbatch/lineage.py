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

Partitions: trailing ``key=value`` segments of a filesystem path (``/warehouse/orders/dt=2026-03-01``) are
the table's partition, not its name (the dataset is ``/warehouse/orders``, as OpenLineage names a partitioned
table); an ``INSERT ... PARTITION (dt='2026-03-01')`` static partition adds to an output's partition. Dynamic
partitions (``PARTITIONED BY (dt)`` filled from the query's rows) are not known before the job has run.

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
_STATIC_PARTITION = re.compile(r"^\s*PARTITION\s*\((?P<spec>(?:[^()']|'(?:[^']|'')*')*)\)", re.IGNORECASE)
_PARTITION_VALUE = re.compile(r"`?(\w+)`?\s*=\s*(?:'((?:[^']|'')*)'|([\w.+-]+))")
_PATH_PARTITION = re.compile(r"^(\w+)=([^/]*)$")
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
    #: Partition the job reads/writes where the script fixes it (path segments, a static PARTITION clause).
    partition: dict[str, str] = {}


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


def split_partition(path: str) -> tuple[str, dict[str, str]]:
    """``/t/dt=2026-03-01/hr=01`` -> ``("/t", {"dt": "2026-03-01", "hr": "01"})``: trailing ``key=value``
    segments are a partition of the table at the path before them."""
    segments = path.rstrip("/").split("/")
    partition: dict[str, str] = {}
    while len(segments) > 1 and (match := _PATH_PARTITION.match(segments[-1])):
        partition = {match[1]: match[2], **partition}
        segments.pop()
    return "/".join(segments) or "/", partition


def static_partition(rest: str) -> dict[str, str]:
    """The ``PARTITION (k='v', ...)`` right after an INSERT's table name, as a mapping (``{}`` if none)."""
    match = _STATIC_PARTITION.match(rest)
    if not match:
        return {}
    return {
        key: (quoted.replace("''", "'") if quoted else bare)
        for key, quoted, bare in _PARTITION_VALUE.findall(match["spec"])
    }


def dataset_for(table: str, options: dict[str, str]) -> tuple[str, str]:
    """``(namespace, name)`` of a table from its connector options (see the module table)."""
    connector = options.get("connector", "")
    if connector == "filesystem" and options.get("path"):
        url = urlsplit(options["path"])
        path = split_partition(url.path)[0]
        if url.scheme in ("", "file"):
            return "file", path
        return f"{url.scheme}://{url.netloc}", path.lstrip("/")
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
        path_partition = split_partition(urlsplit(options["path"]).path)[1] if options.get("path") else {}
        declared[table.lower()] = LineageTable(
            table=table,
            namespace=namespace,
            name=name,
            connector=options.get("connector"),
            columns=_columns(statement[match.end() : close]),
            partition=path_partition if options.get("connector") == "filesystem" else {},
        )
    inputs: dict[str, LineageTable] = {}
    outputs: dict[str, LineageTable] = {}
    for statement in statements:
        insert = _INSERT.match(statement)
        if not insert:
            continue
        target = _bare(insert["name"]).lower()
        output = declared.get(target) or LineageTable(
            table=_bare(insert["name"]), namespace="flink://catalog", name=_bare(insert["name"])
        )
        written = static_partition(statement[insert.end() :])
        if written:
            output = output.model_copy(update={"partition": {**output.partition, **written}})
        outputs[target] = output
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
