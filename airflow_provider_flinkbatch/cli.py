"""``flinkbatch`` command line: manage the local Flink cluster (more sub-commands join as features land)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _local_cluster(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from airflow_provider_flinkbatch.local import LocalCluster

    return LocalCluster(Path(args.state_dir) if args.state_dir else None, tls=getattr(args, "tls", False))


def _cmd_local_up(args: argparse.Namespace) -> int:
    from airflow_provider_flinkbatch.runner import ensure_runner_jar

    info = _local_cluster(args).up(timeout=args.timeout)
    jar = ensure_runner_jar()  # compile now, so the first job does not pay for javac
    if args.print_connection:
        print(info.connection_uri_json())
        return 0
    print(f"Flink REST / web UI : {info.rest_url}")
    print(f"Flink HistoryServer : {info.history_url}")
    print(f"Logs                : {info.log_dir}")
    print(f"Job archives        : {info.archive_dir}")
    print(f"SQL runner jar      : {jar.path}")
    print("Airflow connection  : export AIRFLOW_CONN_FLINK_BATCH_DEFAULT='" + info.connection_uri_json() + "'")
    return 0


def _cmd_local_down(args: argparse.Namespace) -> int:
    stopped = _local_cluster(args).down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _cmd_local_status(args: argparse.Namespace) -> int:
    status = _local_cluster(args).status()
    print(json.dumps(status, indent=2))
    return 0 if status.get("running") else 3


def _cmd_diagnose(args: argparse.Namespace) -> int:
    import os

    from airflow_provider_flinkbatch.hooks.history import FlinkHistoryServerHook, JobHistoryNotFound

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
    hook = FlinkHistoryServerHook(conn_id)
    try:
        skip_jobmanager = args.history_only or (conn_id == "flinkbatch_cli" and not args.rest_url)
        diagnosis = hook.diagnose(args.job_id, include_jobmanager=not skip_jobmanager)
    except JobHistoryNotFound as err:
        print(f"flinkbatch: {err}", file=sys.stderr)
        return 2
    print(diagnosis.model_dump_json(indent=2) if args.json else diagnosis.describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flinkbatch", description="Flink batch SQL for Airflow")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="the local Flink session cluster on 127.0.0.1")
    local.add_argument("--state-dir", help="cluster directory (default: $FLINKBATCH_HOME/local-cluster)")
    local_commands = local.add_subparsers(dest="action", required=True)
    up = local_commands.add_parser("up", help="start JobManager, TaskManager and HistoryServer (idempotent)")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness")
    up.add_argument("--print-connection", action="store_true", help="print only the connection JSON")
    up.add_argument("--tls", action="store_true", help="REST over mutual TLS with generated certificates")
    up.set_defaults(func=_cmd_local_up)
    local_commands.add_parser("down", help="stop the processes 'up' started").set_defaults(func=_cmd_local_down)
    local_commands.add_parser("status", help="show processes and URLs (exit 3 if not running)").set_defaults(
        func=_cmd_local_status
    )

    diagnose = commands.add_parser(
        "diagnose",
        help="why a Flink job failed: root cause, where, category, retryable (JobManager -> HistoryServer -> archives)",
    )
    diagnose.add_argument("job_id", help="the Flink job id (32 hex characters)")
    diagnose.add_argument(
        "--conn-id", default="flink_batch_default", help="flink_batch connection (env or secrets backend)"
    )
    diagnose.add_argument("--rest-url", help="JobManager REST URL (instead of a connection)")
    diagnose.add_argument("--history-url", help="HistoryServer URL (instead of a connection)")
    diagnose.add_argument("--archive-dir", help="jobmanager.archive.fs.dir URL, e.g. s3://bucket/flink-archive")
    diagnose.add_argument("--history-only", action="store_true", help="skip the JobManager")
    diagnose.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    diagnose.set_defaults(func=_cmd_diagnose)

    from airflow_provider_flinkbatch.kubernetes.render_cli import add_render_parser

    add_render_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as err:  # a CLI prints what went wrong, not a traceback
        from airflow_provider_flinkbatch.distribution import FlinkDistributionNotFound
        from airflow_provider_flinkbatch.history.sources import ArchiveError
        from airflow_provider_flinkbatch.local import LocalClusterError
        from airflow_provider_flinkbatch.rest.errors import FlinkRestError
        from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
        from airflow_provider_flinkbatch.runner.build import RunnerBuildError

        known = (
            LocalClusterError,
            FlinkDistributionNotFound,
            RunnerBuildError,
            FlinkRestError,
            FlinkConnectionError,
            ArchiveError,
            ValueError,  # also bad SQL scripts and target options
            OSError,  # e.g. a script file that does not exist
        )
        if isinstance(err, known):
            print(f"flinkbatch: {err}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
