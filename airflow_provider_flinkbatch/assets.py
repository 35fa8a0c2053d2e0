"""Airflow asset events for the tables a finished Flink job wrote, so other DAGs can be scheduled on the data.

The tables come from the (rendered) script, the same :func:`~airflow_provider_flinkbatch.lineage.job_lineage`
the OpenLineage facets use, so both name a table alike: an asset's URI is the OpenLineage dataset's
``namespace/name`` (``file:///data/out``, ``s3://bucket/path``, ``kafka://broker:9092/topic``,
``postgresql://host:5432/db/table``). Paths in scripts are often templated (``{{ params.data_dir }}``), so the
assets are only known when the task runs: the operator declares one :class:`~airflow.sdk.AssetAlias` per task
as its outlet and attaches the concrete assets to it; a downstream DAG schedules on ``Asset("<uri>")``.
Tables that hold no data worth waiting for (``blackhole``, ``print``) are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_flinkbatch.lineage import LineageTable, job_lineage

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


def sink_events(statements: Sequence[str], summary: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """``(asset URI, extra)`` for each table the job wrote; extra: table, connector, Flink job id, and the rows
    written where Flink reported them (the summary's per-sink counts)."""
    rows = {str(sink.get("table", "")).lower(): sink.get("rows") for sink in summary.get("sinks") or []}
    events = []
    for table in job_lineage(statements).outputs:
        uri = asset_uri(table)
        if uri is None:
            continue
        extra: dict[str, Any] = {"table": table.table, "connector": table.connector, "flink_job_id": summary["job_id"]}
        if rows.get(table.table.lower()) is not None:
            extra["rows_written"] = rows[table.table.lower()]
        events.append((uri, extra))
    return events


def emit(outlet_events: Any, alias: str, statements: Sequence[str], summary: dict[str, Any]) -> list[str]:
    """Attach an asset event per written table to the task's alias; returns the URIs (for the task log)."""
    from airflow.sdk import Asset, AssetAlias  # task runtime only

    accessor = outlet_events[AssetAlias(alias)]
    uris = []
    for uri, extra in sink_events(statements, summary):
        accessor.add(Asset(uri), extra=extra)
        uris.append(uri)
    return uris
