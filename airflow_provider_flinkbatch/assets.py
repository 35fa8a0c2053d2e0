"""Airflow asset events for the tables a finished Flink job wrote, so other DAGs can be scheduled on the data.

The tables come from the (rendered) script, the same :func:`~airflow_provider_flinkbatch.lineage.job_lineage`
the OpenLineage facets use, so both name a table alike: an asset's URI is the OpenLineage dataset's
``namespace/name`` (``file:///data/out``, ``s3://bucket/path``, ``kafka://broker:9092/topic``,
``postgresql://host:5432/db/table``). Paths in scripts are often templated (``{{ params.data_dir }}``), so the
assets are only known when the task runs: the operator declares one :class:`~airflow.sdk.AssetAlias` per task
as its outlet and attaches the concrete assets to it; a downstream DAG schedules on ``Asset("<uri>")``.
Tables that hold no data worth waiting for (``blackhole``, ``print``) are skipped.

``sink_assets`` (a spec's ``sinks:``) narrows the events to the tables it names and may name an asset itself
(a catalog table has no path in the script). Each event's extra carries the partition the job wrote where
the script fixes it (``dt`` of a ``PARTITION (dt='...')`` clause or of a ``.../dt=.../`` path: the asset is
the table, the partition is in the extra). Inlets: source tables whose definition has no template are known
when the DAG is parsed and are declared as the task's inlets (specs add the rendered ones, see
:mod:`~airflow_provider_flinkbatch.specs.assets`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_flinkbatch.lineage import LineageTable, job_lineage
from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements

#: Connectors whose "table" is not data anyone can read afterwards.
NOT_DATA = ("blackhole", "print")


def alias_name(dag_id: str | None, task_id: str) -> str:
    """The task's outlet alias (one per task: alias names are global in Airflow)."""
    return f"flinkbatch:{dag_id}.{task_id}" if dag_id else f"flinkbatch:{task_id}"


def asset_uri(table: LineageTable) -> str | None:
    """``namespace/name`` of the table's dataset as an asset URI, or ``None`` for a non-data sink."""
    if table.connector in NOT_DATA:
        return None
    if table.namespace == "file":
        return f"file://{table.name}"
    return f"{table.namespace.rstrip('/')}/{table.name.lstrip('/')}"


def sink_events(
    statements: Sequence[str], summary: dict[str, Any], sink_assets: Mapping[str, str | None] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """``(asset URI, extra)`` for each table the job wrote; extra: table, connector, Flink job id, the rows
    written where Flink reported them (the summary's per-sink counts) and the partition where the script
    fixes it. ``sink_assets`` (table -> asset URI, or ``None`` for the derived one): only those tables."""
    rows = {str(sink.get("table", "")).lower(): sink.get("rows") for sink in summary.get("sinks") or []}
    chosen = None if sink_assets is None else {table.lower(): uri for table, uri in sink_assets.items()}
    events = []
    for table in job_lineage(statements).outputs:
        if chosen is not None and table.table.lower() not in chosen:
            continue
        uri = (chosen or {}).get(table.table.lower()) or asset_uri(table)
        if uri is None:
            continue
        extra: dict[str, Any] = {"table": table.table, "connector": table.connector, "flink_job_id": summary["job_id"]}
        if rows.get(table.table.lower()) is not None:
            extra["rows_written"] = rows[table.table.lower()]
        if table.partition:
            extra["partition"] = dict(table.partition)
        events.append((uri, extra))
    return events


def source_uris(statements: Sequence[str]) -> list[str]:
    """Asset URIs of the tables the script reads (the OpenLineage inputs; non-data tables skipped)."""
    return [uri for table in job_lineage(statements).inputs if (uri := asset_uri(table)) is not None]


def static_source_uris(sql: str) -> list[str]:
    """The sources known without running the task: inline SQL whose source tables' definitions have no
    template markup (a ``.sql`` file or a templated path is known only when the task renders it)."""
    if sql.endswith(".sql"):
        return []
    try:
        statements = split_statements(sql)
    except SqlScriptError:
        return []  # the task reports the script's problem when it runs
    # A templated table definition is left out (its path is known when the task renders it); the INSERTs stay.
    known = [
        statement
        for statement in statements
        if not (statement.lstrip().upper().startswith("CREATE") and ("{{" in statement or "{%" in statement))
    ]
    return source_uris(known)
