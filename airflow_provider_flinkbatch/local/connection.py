"""The local cluster as the default connection, for ``flinkbatch`` commands typed into a plain shell.

Right after ``scripts/demo.sh`` no ``AIRFLOW_CONN_FLINK_BATCH_DEFAULT`` is set in a new shell; ``validate`` and
``diagnose`` then use the running local cluster for ``flink_batch_default`` (and say so) instead of failing.
"""

from __future__ import annotations

from typing import Literal

from airflow_provider_flinkbatch.local.cluster import LocalClusterInfo, running_local_cluster
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID, FlinkConnectionError


def connection_state(conn_id: str) -> Literal["defined", "undefined"] | str:
    """``"defined"``, ``"undefined"`` (Airflow knows no such connection), or what is wrong with it."""
    # Airflow and the REST hook: only when a command looks up a connection (not for --help).
    from airflow.sdk.exceptions import AirflowNotFoundException

    from airflow_provider_flinkbatch.session.hook import FlinkRestHook

    try:
        FlinkRestHook(conn_id).settings  # noqa: B018 - looks the connection up and checks its fields
        return "defined"
    except FlinkConnectionError as err:
        return "undefined" if isinstance(err.__cause__, AirflowNotFoundException) else str(err)
    except Exception as err:  # a broken secrets backend: report, do not crash the command
        return f"connection lookup failed: {err}"


def local_cluster_for(conn_id: str) -> LocalClusterInfo | None:
    """The running ``flinkbatch local up`` cluster, when ``conn_id`` is the default one."""
    return running_local_cluster() if conn_id == DEFAULT_CONN_ID else None
