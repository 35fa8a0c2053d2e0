"""``flinkbatch`` command line: the local Flink cluster, failure diagnosis, presets and plan insight."""

from __future__ import annotations

import argparse
import sys

from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.kubernetes.render_cli import extend_render_parser
from airflow_provider_flinkbatch.presets import describe_presets
from airflow_provider_flinkbatch.specs.cli import register as register_spec_commands


def _cmd_diagnose(args: argparse.Namespace) -> int:
    # Airflow (connections, secrets backends) loads for `diagnose` only, not for --help.
    from airflow_provider_flinkbatch.history import commands

    return commands.diagnose_command(args)


def _cmd_presets(args: argparse.Namespace) -> int:
    print(describe_presets())
    return 0


def _cmd_local(args: argparse.Namespace) -> int:
    # The cluster code (jar cache, pydantic models) loads for `local` commands only, not for --help.
    from airflow_provider_flinkbatch.local import commands

    return commands.run(args)


def _cmd_explain(args: argparse.Namespace) -> int:
    # The planner's client side (runner jar, connector jars) loads for `explain` only.
    from airflow_provider_flinkbatch.plan import commands

    return commands.explain_command(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flinkbatch", description="Flink batch SQL for Airflow")
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="the local Flink session cluster on 127.0.0.1")
    local.add_argument(
        "--state-dir",
        help="cluster directory (default: <state>/local-cluster; <state> is $FLINKBATCH_HOME, else the nearest "
        ".flinkbatch/ folder from the current directory, as scripts/demo.sh creates it)",
    )
    local_commands = local.add_subparsers(dest="action", required=True)
    up = local_commands.add_parser("up", help="start JobManager, TaskManager and HistoryServer (idempotent)")
    up.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for readiness")
    up.add_argument("--print-connection", action="store_true", help="print only the connection JSON")
    up.add_argument("--tls", action="store_true", help="REST over mutual TLS with generated certificates")
    up.add_argument("--preset", action="append", default=[], help="start the cluster with a preset's config")
    up.add_argument("--config", "-c", action="append", default=[], metavar="KEY=VALUE", help="extra Flink option")
    up.add_argument(
        "--with",
        dest="with_jars",
        action="append",
        default=[],
        metavar="parquet,avro,kafka",
        help="load these connector/format jars (resolved once from Maven Central into the jar cache)",
    )
    up.add_argument("--jar", action="append", default=[], help="another jar for the cluster's classpath")
    up.set_defaults(func=_cmd_local)
    local_commands.add_parser("down", help="stop the processes 'up' started").set_defaults(func=_cmd_local)
    status = local_commands.add_parser("status", help="show the processes' pids and the URLs (exit 3 if not running)")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=_cmd_local)
    yarn = local_commands.add_parser(
        "yarn", help="a real local YARN cluster (Hadoop's MiniYARNCluster) + HistoryServer for target='yarn'"
    )
    yarn.add_argument(
        "--state-dir", dest="yarn_state_dir", help="default: <state>/local-yarn (<state> as for local up)"
    )
    yarn_commands = yarn.add_subparsers(dest="yarn_action", required=True)
    yarn_up = yarn_commands.add_parser("up", help="start RM, 2 NodeManagers and a HistoryServer (idempotent)")
    yarn_up.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for readiness")
    yarn_up.add_argument("--print-connection", action="store_true", help="print only the flink_yarn connection JSON")
    yarn_up.set_defaults(func=_cmd_local)
    yarn_commands.add_parser("down", help="stop what 'up' started, containers included").set_defaults(func=_cmd_local)
    yarn_commands.add_parser("status", help="RM, NodeManagers, HistoryServer (exit 3 if not running)").set_defaults(
        func=_cmd_local
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

    commands.add_parser("presets", help="list the named Flink config presets and their keys").set_defaults(
        func=_cmd_presets
    )

    explain = commands.add_parser(
        "explain",
        help="plan a SQL script (local JVM, no cluster) and report per table the columns, filters and "
        "partitions pushed into the scan",
    )
    explain.add_argument("sql_file", help="the job's .sql script (DDL + INSERTs)")
    explain.add_argument("--config", "-c", action="append", default=[], metavar="KEY=VALUE", help="Flink option")
    explain.add_argument("--preset", action="append", default=[], help="a named preset (see 'flinkbatch presets')")
    explain.add_argument("--jar", action="append", default=[], help="extra jar for connectors/formats")
    explain.add_argument("--wide", type=int, default=10, help="columns from which a table counts as wide")
    explain.add_argument("--check", choices=["warn", "fail"], default="warn", help="'fail': exit 4 on warnings")
    explain.add_argument("--json", action="store_true", help="print the report as JSON")
    explain.set_defaults(func=_cmd_explain)

    register_spec_commands(commands)  # validate, render, new, test, avro
    extend_render_parser(commands.choices["render"])  # render <script.sql> --target kubernetes
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as err:  # a CLI prints what went wrong, not a traceback
        known = (FlinkBatchError, ValueError, OSError)  # ValueError: also bad SQL scripts and target options
        if isinstance(err, known):
            print(f"flinkbatch: {err}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
