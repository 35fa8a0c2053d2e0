"""Looking up an Airflow connection, sync (workers) or async (triggerer), with an error that says how to fix it.

Shared by the provider's hooks (:class:`ConnectionHook`): a missing connection is the most common
first-run mistake, so the message names the connection type and gives an ``AIRFLOW_CONN_...`` example.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.settings import ConnectionFields, FlinkConnectionError


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
    # Airflow's async connection API: needed in the triggerer only.
    from airflow.providers.common.compat.connection import get_async_connection

    try:
        return await get_async_connection(conn_id)
    except AirflowNotFoundException as err:
        raise FlinkConnectionError(missing_connection(conn_id, conn_type, example)) from err


def connection_fields(conn: Any, conn_type: str) -> ConnectionFields:
    """The fields settings are built from; older UIs store form fields as ``extra__<type>__<name>``."""
    prefix = f"extra__{conn_type}__"
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return ConnectionFields(
        conn_id=conn.conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        extra={key.removeprefix(prefix): value for key, value in extra.items() if value not in (None, "")},
    )


S = TypeVar("S")

#: Triggers that start together (a triggerer restart resumes thousands) share one read of their connection:
#: one lookup through the supervisor, one parse and one masker registration instead of one per trigger. A read
#: serves the triggers of the same event loop that ask for the same connection within this many seconds.
SHARED_READ_SECONDS = 1.0
_READS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[type, str], tuple[float, asyncio.Future[Any]]]]
_READS = weakref.WeakKeyDictionary()


class ConnectionHook(BaseHook, Generic[S]):
    """A provider hook: one connection type turned into validated settings ``S``, sync or async.

    Subclasses set ``conn_type``, ``example`` and :meth:`parse`, and build their clients from ``settings``.
    """

    conn_name_attr = "flink_conn_id"
    conn_type: ClassVar[str]
    example: ClassVar[str]

    def __init__(self, flink_conn_id: str, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.flink_conn_id = flink_conn_id
        self.retry = retry

    @classmethod
    def parse(cls, conn: Any, *, mask: bool = True) -> S:
        raise NotImplementedError

    @classmethod
    async def amask(cls, settings: S) -> None:
        """Register the settings' secrets with the masker without blocking the loop (none by default)."""

    @cached_property
    def settings(self) -> S:
        return self.parse(get_connection(self, self.flink_conn_id, self.conn_type, self.example))

    @classmethod
    async def async_settings(cls, flink_conn_id: str) -> S:
        """The connection's settings, read without blocking the triggerer's event loop (secrets masked).

        Asked again within :data:`SHARED_READ_SECONDS` in the same loop, the same read answers (a failed one
        is not reused): the settings are immutable.
        """
        reads = _READS.setdefault(asyncio.get_running_loop(), {})
        now = time.monotonic()
        recent = reads.get((cls, flink_conn_id))
        if recent is None or now - recent[0] > SHARED_READ_SECONDS or _failed(recent[1]):
            recent = reads[(cls, flink_conn_id)] = (now, asyncio.ensure_future(cls._read_settings(flink_conn_id)))
        settings: S = await asyncio.shield(recent[1])  # one caller cancelled does not cancel the others' read
        return settings

    @classmethod
    async def _read_settings(cls, flink_conn_id: str) -> S:
        settings = cls.parse(await aget_connection(flink_conn_id, cls.conn_type, cls.example), mask=False)
        await cls.amask(settings)
        return settings


def _failed(read: asyncio.Future[Any]) -> bool:
    return read.done() and (read.cancelled() or read.exception() is not None)
