"""Looking up an Airflow connection, sync (workers) or async (triggerer), with an error that says how to fix it.

Shared by the provider's hooks: a missing connection is the most common first-run mistake, so the message
names the connection type and gives an ``AIRFLOW_CONN_...`` example for it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError


def missing_connection(conn_id: str, conn_type: str, example: str) -> str:
    """``example``: the JSON body of a minimal connection of this type (host and the extras that matter)."""
    return (
        f"connection {conn_id!r} is not defined: create a '{conn_type}' connection in the Airflow UI or set "
        f"AIRFLOW_CONN_{conn_id.upper()}='{example}'"
    )


def get_connection(hook: Any, conn_id: str, conn_type: str, example: str) -> Any:
    try:
        return hook.get_connection(conn_id)
    except AirflowNotFoundException as err:
        raise FlinkConnectionError(missing_connection(conn_id, conn_type, example)) from err


async def aget_connection(conn_id: str, conn_type: str, example: str) -> Any:
    """Without blocking the triggerer's event loop."""
    from airflow.providers.common.compat.connection import get_async_connection

    try:
        return await get_async_connection(conn_id)
    except AirflowNotFoundException as err:
        raise FlinkConnectionError(missing_connection(conn_id, conn_type, example)) from err
