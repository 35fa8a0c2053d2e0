"""``flinkbatch diagnose <job id>``: why a Flink job failed, from the JobManager, the HistoryServer or the archives.

Loaded for ``diagnose`` only (it pulls in Airflow's connection lookup), not for ``flinkbatch --help``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook, JobHistoryNotFound
from airflow_provider_flinkbatch.local.connection import connection_state, local_cluster_for


def diagnose_command(args: argparse.Namespace) -> int:
    conn_id = args.conn_id
    if args.rest_url or args.history_url or args.archive_dir:
        extra = {
            key: value
            for key, value in (("history_server_url", args.history_url), ("archive_dir", args.archive_dir))
            if value
        }
        conn_id = "flinkbatch_cli"
        os.environ["AIRFLOW_CONN_FLINKBATCH_CLI"] = json.dumps(
            {
                "conn_type": "flink_batch",
                "host": args.rest_url or args.history_url or "http://127.0.0.1:8081",
                "extra": extra,
            }
        )
    else:
        _default_to_local_cluster(conn_id)
    hook = FlinkHistoryServerHook(conn_id)
    try:
        skip_jobmanager = args.history_only or (conn_id == "flinkbatch_cli" and not args.rest_url)
        diagnosis = hook.diagnose(args.job_id, include_jobmanager=not skip_jobmanager)
    except JobHistoryNotFound as err:
        print(f"flinkbatch: {err}", file=sys.stderr)
        return 2
    print(diagnosis.model_dump_json(indent=2) if args.json else diagnosis.describe())
    return 0


def _default_to_local_cluster(conn_id: str) -> None:
    """Right after ``scripts/demo.sh`` a plain shell has no connection: use the running local cluster for the
    default one (saying so), as ``flinkbatch validate`` does."""
    local = local_cluster_for(conn_id)
    if local is not None and connection_state(conn_id) == "undefined":
        print(
            f"connection {conn_id!r} is not defined in this shell: using the local cluster at {local.rest_url}",
            file=sys.stderr,
        )
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = local.connection_uri_json()
