"""``flinkbatch`` command line: the local Flink cluster, failure diagnosis, presets and plan insight."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _local_cluster(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from airflow_provider_flinkbatch.local import LocalCluster
    from airflow_provider_flinkbatch.local.jars import connector_jars
    from airflow_provider_flinkbatch.presets import apply_presets
    from airflow_provider_flinkbatch.sql.factories import parse_with

    extra = apply_presets(getattr(args, "preset", []), _config_pairs(getattr(args, "config", [])))
    with_jars = parse_with(getattr(args, "with_jars", []))
    return LocalCluster(
        Path(args.state_dir) if args.state_dir else None,
        extra_config={key: str(value) for key, value in extra.items()} or None,
        tls=getattr(args, "tls", False),
        jars=[*(connector_jars(with_jars) if with_jars else []), *(Path(jar) for jar in getattr(args, "jar", []))],
    )


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
    if info.jars:
        print(f"Connector jars      : {', '.join(Path(path).name for path in info.jars)}")
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

    from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook, JobHistoryNotFound

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


def _config_pairs(pairs: list[str]) -> dict[str, str]:
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--config {pair!r}: write it as key=value, e.g. --config parallelism.default=4")
        config[key.strip()] = value.strip()
    return config


def _cmd_presets(args: argparse.Namespace) -> int:
    from airflow_provider_flinkbatch.presets import describe_presets

    print(describe_presets())
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from airflow_provider_flinkbatch.plan.explain import explain
    from airflow_provider_flinkbatch.presets import apply_presets
    from airflow_provider_flinkbatch.sql.statements import split_statements

    path = Path(args.sql_file)
    if not path.is_file():
        raise ValueError(f"{path}: no such SQL file")
    config = apply_presets(args.preset, _config_pairs(args.config))
    insight = explain(split_statements(path.read_text()), config, extra_jars=args.jar, wide_table_columns=args.wide)
    if args.json:
        print(insight.model_dump_json(indent=2))
    else:
        print("== Optimized Physical Plan ==")
        print(insight.plan)
        print()
        print("== Plan insight ==")
        print(insight.describe())
    return 4 if insight.warnings and args.check == "fail" else 0


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

    from airflow_provider_flinkbatch.kubernetes.render_cli import extend_render_parser
    from airflow_provider_flinkbatch.specs.cli import register as register_spec_commands

    register_spec_commands(commands)  # validate, render, new, test, avro
    extend_render_parser(commands.choices["render"])  # render <script.sql> --target kubernetes
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except Exception as err:  # a CLI prints what went wrong, not a traceback
        from airflow_provider_flinkbatch.distribution import FlinkDistributionNotFound
        from airflow_provider_flinkbatch.history.sources import ArchiveError
        from airflow_provider_flinkbatch.local import LocalClusterError
        from airflow_provider_flinkbatch.local.jars import JarResolutionError
        from airflow_provider_flinkbatch.plan.explain import ExplainError
        from airflow_provider_flinkbatch.rest.errors import FlinkRestError
        from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
        from airflow_provider_flinkbatch.runner.build import RunnerBuildError

        known = (
            LocalClusterError,
            JarResolutionError,
            FlinkDistributionNotFound,
            RunnerBuildError,
            FlinkRestError,
            FlinkConnectionError,
            ArchiveError,
            ExplainError,
            ValueError,  # also bad SQL scripts and target options
            OSError,  # e.g. a script file that does not exist
        )
        if isinstance(err, known):
            print(f"flinkbatch: {err}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
