"""FlinkYarnHook: an Airflow connection of type ``flink_yarn`` turned into YARN ResourceManager clients."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_flinkbatch.yarn.settings import CONN_TYPE, DEFAULT_CONN_ID, YarnConnectionSettings

if TYPE_CHECKING:
    from airflow_provider_flinkbatch.rest.client import RetryPolicy
    from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient, YarnRmClient


def yarn_settings_from_connection(conn: Any) -> YarnConnectionSettings:
    prefix = f"extra__{CONN_TYPE}__"
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    extra = {key.removeprefix(prefix): value for key, value in extra.items() if value not in (None, "")}
    return YarnConnectionSettings.from_connection_fields(
        conn_id=conn.conn_id,
        conn_type=conn.conn_type,
        host=conn.host,
        port=conn.port,
        schema=conn.schema,
        login=conn.login,
        password=conn.password,
        extra=extra,
    )


#: A minimal connection (host: the ResourceManager URL(s)), shown when the connection is missing.
EXAMPLE = (
    f'{{"conn_type": "{CONN_TYPE}", "host": "http://<resourcemanager>:8088", "extra": {{"flink_home": "/opt/flink"}}}}'
)


class FlinkYarnHook(BaseHook):
    """YARN cluster access for Flink jobs: ResourceManager REST (status, find by tag, kill) and the CLI settings.

    :param flink_conn_id: connection of type ``flink_yarn``: host = ResourceManager URL(s), comma-separated
        for RM HA; login = YARN user on simple-auth clusters; extras: ``flink_home`` / ``flink_cli``,
        ``hadoop_conf_dir``, ``hadoop_classpath``, ``kerberos_principal`` + ``kerberos_keytab``,
        ``spnego``, ``history_server_url``, ``flink_config`` (cluster-wide ``-D`` presets).
    """

    conn_name_attr = "flink_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Flink on YARN"

    def __init__(self, flink_conn_id: str = DEFAULT_CONN_ID, retry: RetryPolicy | None = None) -> None:
        super().__init__()
        self.flink_conn_id = flink_conn_id
        self.retry = retry

    @cached_property
    def settings(self) -> YarnConnectionSettings:
        from airflow_provider_flinkbatch.hooks.connections import get_connection

        return yarn_settings_from_connection(get_connection(self, self.flink_conn_id, CONN_TYPE, EXAMPLE))

    @cached_property
    def rm(self) -> YarnRmClient:
        from airflow_provider_flinkbatch.yarn.client import YarnRmClient

        return YarnRmClient(self.settings, self.retry)

    @classmethod
    async def async_settings(cls, flink_conn_id: str) -> YarnConnectionSettings:
        """Read the connection without blocking the triggerer's event loop."""
        from airflow_provider_flinkbatch.hooks.connections import aget_connection

        return yarn_settings_from_connection(await aget_connection(flink_conn_id, CONN_TYPE, EXAMPLE))

    @classmethod
    async def async_rm(cls, flink_conn_id: str, retry: RetryPolicy | None = None) -> AsyncYarnRmClient:
        from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient

        return AsyncYarnRmClient(await cls.async_settings(flink_conn_id), retry)

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: one ``GET /ws/v1/cluster/info`` on the ResourceManager(s)."""
        from airflow_provider_flinkbatch.rest.calls import ApiCall
        from airflow_provider_flinkbatch.rest.client import NO_RETRY
        from airflow_provider_flinkbatch.yarn.client import YarnRmClient

        try:
            info = YarnRmClient(self.settings, NO_RETRY).call(
                ApiCall("GET", "/ws/v1/cluster/info", lambda body: dict(body["clusterInfo"]))
            )
        except Exception as err:  # the UI shows the message
            return False, str(err)
        return True, f"YARN ResourceManager {info.get('haState', '?')}, Hadoop {info.get('hadoopVersion', '?')}"
