"""FlinkYarnHook: all I/O of the YARN backend.

An Airflow connection of type ``flink_yarn`` turned into ResourceManager clients (sync and async), plus
Flink REST clients for URLs on the YARN side (the web proxy of a running application, the HistoryServer)
that carry the cluster's auth. The submission itself (``flink run -t yarn-application``) is argv built
and run by :mod:`~airflow_provider_flinkbatch.yarn.cli`, called from the target.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow_provider_flinkbatch.connections import ConnectionHook, connection_fields
from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.rest.client import NO_RETRY, AsyncFlinkRestClient, FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.yarn import calls as rm_calls
from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient, YarnRmClient, httpx_auth, requests_auth
from airflow_provider_flinkbatch.yarn.settings import CONN_TYPE, DEFAULT_CONN_ID, YarnConnectionSettings
from airflow_provider_flinkbatch.yarn.state import WAITING_STATES
from airflow_provider_flinkbatch.yarn.tags import PROVIDER_TAG


def yarn_settings_from_connection(conn: Any) -> YarnConnectionSettings:
    return YarnConnectionSettings.from_connection_fields(connection_fields(conn, CONN_TYPE))


#: A minimal connection (host: the ResourceManager URL(s)), shown when the connection is missing.
EXAMPLE = (
    f'{{"conn_type": "{CONN_TYPE}", "host": "http://<resourcemanager>:8088", "extra": {{"flink_home": "/opt/flink"}}}}'
)


class FlinkYarnHook(ConnectionHook[YarnConnectionSettings]):
    """YARN cluster access for Flink jobs: ResourceManager REST (status, find by tag, kill) and the CLI settings.

    :param flink_conn_id: connection of type ``flink_yarn``: host = ResourceManager URL(s), comma-separated
        for RM HA; login = YARN user on simple-auth clusters; extras: ``flink_home`` / ``flink_cli``,
        ``hadoop_conf_dir``, ``hadoop_classpath``, ``kerberos_principal`` + ``kerberos_keytab``,
        ``spnego``, ``history_server_url``, ``flink_config`` (cluster-wide ``-D`` presets).
    """

    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Flink on YARN"
    example = EXAMPLE

    def __init__(self, flink_conn_id: str = DEFAULT_CONN_ID, retry: RetryPolicy | None = None) -> None:
        super().__init__(flink_conn_id, retry)

    @classmethod
    def parse(cls, conn: Any, *, mask: bool = True) -> YarnConnectionSettings:
        return yarn_settings_from_connection(conn)

    @cached_property
    def rm(self) -> YarnRmClient:

        return YarnRmClient(self.settings, self.retry)

    @classmethod
    async def async_rm(cls, flink_conn_id: str, retry: RetryPolicy | None = None) -> AsyncYarnRmClient:

        return AsyncYarnRmClient(await cls.async_settings(flink_conn_id), retry)

    def test_connection(self) -> tuple[bool, str]:
        """The UI's Test button: one ``GET /ws/v1/cluster/info`` on the ResourceManager(s)."""

        try:
            info = YarnRmClient(self.settings, NO_RETRY).call(
                ApiCall("GET", "/ws/v1/cluster/info", lambda body: dict(body["clusterInfo"]))
            )
        except Exception as err:  # the UI shows the message
            return False, str(err)
        return True, f"YARN ResourceManager {info.get('haState', '?')}, Hadoop {info.get('hadoopVersion', '?')}"


async def waiting_applications(rm: AsyncYarnRmClient) -> dict[str, dict[str, Any]]:
    """Every application of this provider (its tag) that has not ended, by id: ONE ResourceManager request.

    The triggers of one triggerer share it each cycle (``triggers.poller``); an application that ended
    is not listed, so its trigger reads it once with its own ``GET .../apps/<id>``.
    """
    apps = await rm.call(rm_calls.applications_by_tags([PROVIDER_TAG], WAITING_STATES))
    return {str(app.get("id")): app for app in apps}


def flink_client(settings: YarnConnectionSettings, rest_url: str, retry: RetryPolicy) -> FlinkRestClient:
    """A Flink REST client for a URL on the YARN side (web proxy, HistoryServer) with the cluster's auth."""
    client = FlinkRestClient(
        FlinkConnectionSettings(rest_url=rest_url, verify=settings.verify, timeout=settings.timeout), retry
    )
    auth = requests_auth(settings)
    if auth is not None:
        client._session.auth = auth
    return client


def async_flink_client(settings: YarnConnectionSettings, rest_url: str, retry: RetryPolicy) -> AsyncFlinkRestClient:
    """The triggerer's twin of :func:`flink_client`."""
    client = AsyncFlinkRestClient(
        FlinkConnectionSettings(rest_url=rest_url, verify=settings.verify, timeout=settings.timeout), retry
    )
    auth = httpx_auth(settings)
    if auth is not None:
        client._client().auth = auth
    return client


def proxy_url(settings: YarnConnectionSettings, app: dict[str, Any]) -> str:
    """Flink's REST API/web UI of a running application: its tracking URL (the YARN web proxy)."""
    tracking = str(app.get("trackingUrl") or "")
    if tracking.startswith(("http://", "https://")) and "/proxy/" in tracking:
        return tracking.rstrip("/")
    return settings.proxy_url(str(app["id"]))
