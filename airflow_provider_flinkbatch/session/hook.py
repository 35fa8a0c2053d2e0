"""FlinkRestHook: an Airflow connection of type ``flink_batch`` turned into Flink REST clients."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk.log import amask_secret, mask_secret

from airflow_provider_flinkbatch.connections import ConnectionHook, connection_fields
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
    settings = FlinkConnectionSettings.from_connection_fields(connection_fields(conn, CONN_TYPE))
    if mask:
        for secret in settings.secrets():
            mask_secret(secret)
    return settings


async def amask_settings(settings: FlinkConnectionSettings) -> None:
    for secret in settings.secrets():
        await amask_secret(secret)


class FlinkRestHook(ConnectionHook[FlinkConnectionSettings]):
    """Talk to a Flink cluster's REST API (session cluster, JobManager, or a proxy in front of them).

    :param flink_conn_id: connection of type ``flink_batch``: host is the REST URL, login/password
        give basic auth, extras hold ``bearer_token``, ``verify_ssl``, ``ca_path``, ``timeout``,
        ``web_ui_url`` and ``history_server_url``.
    """

    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Flink Batch"
    example = EXAMPLE

    def __init__(self, flink_conn_id: str = DEFAULT_CONN_ID, retry: RetryPolicy | None = None) -> None:
        super().__init__(flink_conn_id, retry)

    @classmethod
    def parse(cls, conn: Any, *, mask: bool = True) -> FlinkConnectionSettings:
        return settings_from_connection(conn, mask=mask)

    @classmethod
    async def amask(cls, settings: FlinkConnectionSettings) -> None:
        await amask_settings(settings)

    @cached_property
    def client(self) -> FlinkRestClient:
        return FlinkRestClient(self.settings, self.retry)

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
