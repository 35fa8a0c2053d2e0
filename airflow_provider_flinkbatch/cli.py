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


def _state_line(args: argparse.Namespace) -> str:
    """Which cluster folder a ``local`` command acts on, and why that one (see :mod:`.paths`)."""
    from airflow_provider_flinkbatch.paths import home_and_reason

    if args.state_dir:
        return f"State               : {args.state_dir} (--state-dir)"
    home, reason = home_and_reason()
    return f"State               : {home / 'local-cluster'} ({reason}; override with FLINKBATCH_HOME)"


def _cmd_local_up(args: argparse.Namespace) -> int:
    from airflow_provider_flinkbatch.runner import ensure_runner_jar

    cluster = _local_cluster(args)
    already = cluster.info() is not None and bool(cluster.status()["running"])
    info = cluster.up(timeout=args.timeout)
    jar = ensure_runner_jar()  # compile now, so the first job does not pay for javac
    if args.print_connection:
        print(info.connection_uri_json())
        return 0
    print(_state_line(args) + (" - already running, reused" if already else ""))
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
    cluster = _local_cluster(args)
    info = cluster.info()
    pids = info.pids if info is not None else {}
    stopped = cluster.down()
    print(_state_line(args))
    print("stopped: " + (", ".join(f"{name} (pid {pids[name]})" for name in stopped) or "nothing was running"))
    return 0


def _cmd_local_status(args: argparse.Namespace) -> int:
    status = _local_cluster(args).status()
    if args.json:
        print(json.dumps(status, indent=2))
        return 0 if status.get("running") else 3
    print(_state_line(args))
    if "pids" not in status:
        print(f"Not running         : {status['reason']}; start it with `flinkbatch local up`")
        return 3
    alive, pids = status["processes"], status["pids"]
    assert isinstance(alive, dict) and isinstance(pids, dict)
    for name, pid in pids.items():
        print(f"{name:<20}: pid {pid} {'running' if alive.get(name) else 'NOT running'}")
    answers = {True: "answers", False: "does NOT answer"}
    print(
        f"Flink REST / web UI : {status['rest_url']} ({answers[bool(status['rest_answers'])]}, "
        f"{status['taskmanagers'] or 0} TaskManager(s), {status['slots_available'] or 0} free slot(s))"
    )
    print(f"Flink HistoryServer : {status['history_url']} ({answers[bool(status['history_answers'])]})")
    print(f"Logs                : {status['log_dir']}")
    jars = status.get("jars")
    if isinstance(jars, list) and jars:
        print(f"Connector jars      : {', '.join(jars)}")
    if not status["running"]:
        print("Not running         : restart it with `flinkbatch local up` (stops what is left, starts again)")
        return 3
    return 0


def _local_yarn(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster

    return LocalYarnCluster(Path(args.yarn_state_dir) if args.yarn_state_dir else None)


def _cmd_local_yarn_up(args: argparse.Namespace) -> int:
    from airflow_provider_flinkbatch.runner import ensure_runner_jar

    info = _local_yarn(args).up(timeout=args.timeout)
    jar = ensure_runner_jar()
    if args.print_connection:
        print(info.connection_uri_json())
        return 0
    print(f"YARN ResourceManager : {info.rm_url} (REST /ws/v1/cluster, web proxy /proxy/<application id>)")
    print(f"Flink HistoryServer  : {info.history_url}")
    print(f"Flink CLI            : {info.flink_cli}")
    print(f"HADOOP_CONF_DIR      : {info.hadoop_conf_dir}")
    print(f"Logs                 : {info.log_dir}")
    print(f"SQL runner jar       : {jar.path}")
    print("Airflow connection   : export AIRFLOW_CONN_FLINK_YARN_DEFAULT='" + info.connection_uri_json() + "'")
    return 0


def _cmd_local_yarn_down(args: argparse.Namespace) -> int:
    stopped = _local_yarn(args).down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _cmd_local_yarn_status(args: argparse.Namespace) -> int:
    status = _local_yarn(args).status()
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
    import os

    from airflow_provider_flinkbatch.local.connection import connection_state, local_cluster_for

    local = local_cluster_for(conn_id)
    if local is not None and connection_state(conn_id) == "undefined":
        print(
            f"connection {conn_id!r} is not defined in this shell: using the local cluster at {local.rest_url}",
            file=sys.stderr,
        )
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = local.connection_uri_json()


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
    from airflow_provider_flinkbatch.plan.explain import ExplainError, explain
    from airflow_provider_flinkbatch.presets import apply_presets
    from airflow_provider_flinkbatch.sql.statements import split_statements

    path = Path(args.sql_file)
    if not path.is_file():
        raise ValueError(f"{path}: no such SQL file")
    config = apply_presets(args.preset, _config_pairs(args.config))
    script = path.read_text()
    try:
        insight = explain(split_statements(script), config, extra_jars=args.jar, wide_table_columns=args.wide)
    except ExplainError as err:
        from airflow_provider_flinkbatch.sql.errors import describe_rejection

        message = describe_rejection(str(err), script, str(path), statement_offset=err.statement_offset)
        print(f"flinkbatch: Flink rejected the SQL: {message}", file=sys.stderr)
        return 1
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
    up.set_defaults(func=_cmd_local_up)
    local_commands.add_parser("down", help="stop the processes 'up' started").set_defaults(func=_cmd_local_down)
    status = local_commands.add_parser("status", help="show the processes' pids and the URLs (exit 3 if not running)")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=_cmd_local_status)
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
    yarn_up.set_defaults(func=_cmd_local_yarn_up)
    yarn_commands.add_parser("down", help="stop what 'up' started, containers included").set_defaults(
        func=_cmd_local_yarn_down
    )
    yarn_commands.add_parser("status", help="RM, NodeManagers, HistoryServer (exit 3 if not running)").set_defaults(
        func=_cmd_local_yarn_status
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
        from airflow_provider_flinkbatch.local.yarn_jars import HadoopJarsError
        from airflow_provider_flinkbatch.plan.explain import ExplainError
        from airflow_provider_flinkbatch.rest.errors import FlinkRestError
        from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
        from airflow_provider_flinkbatch.runner.build import RunnerBuildError

        known = (
            LocalClusterError,
            JarResolutionError,
            FlinkDistributionNotFound,
            RunnerBuildError,
            HadoopJarsError,
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
