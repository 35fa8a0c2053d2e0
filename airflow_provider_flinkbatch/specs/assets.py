"""A spec's assets when its DAG is parsed: the sources it reads (inlets), the sinks it writes (what another
spec's ``depends_on`` schedules on), and the ``sinks:`` that narrow or name the assets its runs emit.

Why render at parse time: spec SQL names tables through templates (``{{ params.data_dir }}/orders``), and a
schedule needs a fixed asset. The SQL is rendered for two logical dates; a table whose asset URI is the same
for both (a partition such as ``dt={{ ds }}`` or ``PARTITION (dt='{{ ds }}')`` is not part of the URI) has a
stable asset. A path that changes per run (``.../orders/{{ ds }}``) has none: name it in ``sinks:``
(``{table: orders, asset: "file:///warehouse/orders"}``) or make the date a ``dt=`` partition.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow_provider_flinkbatch.assets import asset_uri
from airflow_provider_flinkbatch.lineage import JobLineage, LineageTable, job_lineage
from airflow_provider_flinkbatch.specs.effective import SpecRenderError, render_sql
from airflow_provider_flinkbatch.specs.model import JobSpec
from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements

#: Two logical dates a day and a month apart: a URI depending on the date differs between them.
_DATES = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 2, 3, 4, 5, tzinfo=UTC))


class SpecAssetError(ValueError):
    """The assets of a spec another spec depends on cannot be known when the DAG is parsed."""


def _lineage(spec: JobSpec) -> list[JobLineage]:
    return [job_lineage(split_statements(render_sql(spec, logical_date))) for logical_date in _DATES]


def _stable(tables: list[list[LineageTable]]) -> dict[str, str | None]:
    """Data table -> its asset URI where every rendering agrees, ``None`` where it changes per run."""
    uris: dict[str, set[str]] = {}
    for rendering in tables:
        for table in rendering:
            if (uri := asset_uri(table)) is not None:
                uris.setdefault(table.table.lower(), set()).add(uri)
    return {table: next(iter(found)) if len(found) == 1 else None for table, found in uris.items()}


def stable_source_uris(spec: JobSpec) -> list[str]:
    """Inlets: asset URIs of the sources whose location does not change per run; ``[]`` if the SQL does not
    render outside a run (the task still logs what it read, and the OpenLineage inputs have it)."""
    try:
        renderings = _lineage(spec)
    except (SpecRenderError, SqlScriptError):
        return []
    return [uri for uri in _stable([lineage.inputs for lineage in renderings]).values() if uri]


def upstream_asset_uris(upstream: JobSpec, downstream: JobSpec) -> list[str]:
    """What ``downstream``'s DAG is scheduled on: the assets ``upstream``'s runs emit (its ``sinks:`` where
    given). Raises :class:`SpecAssetError` naming the tables when none can be known now."""
    where = f"depends_on {upstream.name!r} (DAG {upstream.dag_id!r})"
    named = {ref.table.lower(): ref.asset for ref in upstream.sinks}
    if named and all(named.values()):
        return list(dict.fromkeys(uri for uri in named.values() if uri))
    try:
        renderings = _lineage(upstream)
    except (SpecRenderError, SqlScriptError) as err:
        raise SpecAssetError(f"{where}: its SQL does not render, so its assets are unknown: {err}") from err
    stable = _stable([lineage.outputs for lineage in renderings])
    if named:
        stable = {table: named[table] or stable.get(table) for table in named}
    changing = sorted(table for table, uri in stable.items() if uri is None)
    uris = [uri for uri in stable.values() if uri]
    if changing or not uris:
        tables = ", ".join(changing) or "no data table"
        raise SpecAssetError(
            f"{where}: it writes {tables} at a location that changes per run (or none), so no asset can schedule "
            f"this DAG; in {upstream.path.name} make the date a partition (path '.../dt={{{{ ds }}}}' or "
            "INSERT ... PARTITION (dt='{{ ds }}')) or name the asset: sinks: [{table: <table>, asset: <uri>}]"
        )
    return list(dict.fromkeys(uris))
