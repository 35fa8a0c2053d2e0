"""FlinkRestHook: an Airflow connection of type ``flink_batch`` turned into Flink REST clients."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.log import amask_secret, mask_secret

from airflow_provider_flinkbatch.connections import aget_connection, get_connection
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import NO_RETRY, AsyncFlinkRestClient, FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import (
    CONN_TYPE,
    DEFAULT_CONN_ID,
    FlinkConnectionSettings,
)

#: A minimal connection, shown when the connection is missing.
EXAMPLE = f'{{"conn_type": "{CONN_TYPE}", "host": "http://<jobmanager>:8081"}}'


def settings_from_connection(conn: Any, *, mask: bool = True) -> FlinkConnectionSettings:
    """Parse an Airflow ``Connection`` and (unless ``mask=False``) register its secrets with the masker.

    Async callers pass ``mask=False`` and use :func:`amask_settings`, which does not block the loop.
    """
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    settings = FlinkConnectionSettings.from_connection_fields(
        conn_id=conn.conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        extra=_strip_form_prefix(extra),
    )
    if mask:
        _mask(settings.secrets())
    return settings


def _strip_form_prefix(extra: dict[str, Any]) -> dict[str, Any]:
    """Older UIs store form fields as ``extra__flink_batch__<name>``; accept both spellings."""
    prefix = f"extra__{CONN_TYPE}__"
    return {key.removeprefix(prefix): value for key, value in extra.items() if value not in (None, "")}


async def amask_settings(settings: FlinkConnectionSettings) -> None:
    for secret in settings.secrets():
        await amask_secret(secret)


def _mask(secrets: list[str]) -> None:
    for secret in secrets:
        mask_secret(secret)


class FlinkRestHook(BaseHook):
    """Talk to a Flink cluster's REST API (session cluster, JobManager, or a proxy in front of them).

    :param flink_conn_id: connection of type ``flink_batch``: host is the REST URL, login/password
        give basic auth, extras hold ``bearer_token``, ``verify_ssl``, ``ca_path``, ``timeout``,
        ``web_ui_url`` and ``history_server_url``.
    """

    conn_name_attr = "flink_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Flink Batch"

    def __init__(self, flink_conn_id: str = DEFAULT_CONN_ID, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.flink_conn_id = flink_conn_id
        self.retry = retry

    @cached_property
    def settings(self) -> FlinkConnectionSettings:
        return settings_from_connection(get_connection(self, self.flink_conn_id, CONN_TYPE, EXAMPLE))

    @cached_property
    def client(self) -> FlinkRestClient:
        return FlinkRestClient(self.settings, self.retry)

    @classmethod
    async def async_settings(cls, flink_conn_id: str) -> FlinkConnectionSettings:
        """The connection's settings, read without blocking the triggerer's event loop (secrets masked)."""
        conn = await aget_connection(flink_conn_id, CONN_TYPE, EXAMPLE)
        settings = settings_from_connection(conn, mask=False)
        await amask_settings(settings)
        return settings

    @classmethod
    async def async_client(cls, flink_conn_id: str, retry: RetryPolicy | None = None) -> AsyncFlinkRestClient:
        """Client for triggers: reads the connection without blocking the triggerer's event loop."""
        return AsyncFlinkRestClient(await cls.async_settings(flink_conn_id), retry)

    def test_connection(self) -> tuple[bool, str]:
        """Used by the UI's Test button: one ``GET /overview``."""
        try:
            overview = FlinkRestClient(self.settings, NO_RETRY).call(calls.cluster_overview())
        except Exception as err:  # the UI shows the message
            return False, str(err)
        return True, (
            f"Flink {overview.get('flink-version', '?')}: {overview.get('taskmanagers')} TaskManager(s), "
            f"{overview.get('slots-available')} free slot(s)"
        )
