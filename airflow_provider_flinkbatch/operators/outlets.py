"""The operator's side of Airflow assets: what it declares when the DAG is parsed, what it attaches at the end.

:mod:`airflow_provider_flinkbatch.assets` derives asset URIs and extras from a script (no Airflow needed: the
spec tools use it too); this module turns them into Airflow objects on a task. The written tables are known
only when the task has run (paths are often templated), so the task declares one
:class:`~airflow.sdk.AssetAlias` as its outlet and attaches one event per table to it when its job FINISHED.
Sources whose definition has no template are known at parse time and become the task's inlets.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import Asset, AssetAlias, BaseOperator

from airflow_provider_flinkbatch import assets


def declare(task: BaseOperator, sql: str, given_inlets: Any) -> str:
    """Add the task's alias outlet and, unless inlets were given (the spec factory passes the rendered ones),
    the inlets known without rendering. Returns the alias name the task attaches its events to."""
    alias = assets.alias_name(task.dag.dag_id if task.has_dag() else None, task.task_id)
    task.add_outlets([AssetAlias(alias)])
    if given_inlets is None:
        task.add_inlets([Asset(uri) for uri in assets.static_source_uris(sql)])
    return alias


def attach_events(
    outlet_events: Any,
    alias: str,
    statements: Sequence[str],
    summary: dict[str, Any],
    sink_assets: Mapping[str, str | None] | None,
    log: logging.Logger | Any,
) -> list[str]:
    """Attach an asset event per written table to the task's alias and log the tables read and written.
    Returns the written URIs."""
    accessor = outlet_events[AssetAlias(alias)]
    written = []
    for uri, extra in assets.sink_events(statements, summary, sink_assets):
        accessor.add(Asset(uri), extra=extra)
        written.append(uri)
    if read := assets.source_uris(statements):
        log.info("Tables read (inlets): %s", ", ".join(read))
    if written:
        log.info("Asset events for the tables written: %s", ", ".join(written))
    return written
