"""``flinkbatch local ...``: start, stop and show the local Flink session cluster and the local YARN cluster.

The command line (:mod:`airflow_provider_flinkbatch.cli`) loads this module only for ``local`` commands,
so ``flinkbatch --help`` and the other commands do not pay for the cluster code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from airflow_provider_flinkbatch.local.cluster import LocalCluster
from airflow_provider_flinkbatch.local.jars import connector_jars
from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.paths import home_and_reason
from airflow_provider_flinkbatch.presets import apply_presets, config_pairs
from airflow_provider_flinkbatch.runner import ensure_runner_jar
from airflow_provider_flinkbatch.sql.factories import parse_with


def run(args: argparse.Namespace) -> int:
    """The ``local`` command the parser chose (``args.action``, and ``args.yarn_action`` under ``yarn``)."""
    match args.action, getattr(args, "yarn_action", None):
        case "up", _:
            return up(args)
        case "down", _:
            return down(args)
        case "status", _:
            return status(args)
        case "yarn", "up":
            return yarn_up(args)
        case "yarn", "down":
            return yarn_down(args)
        case "yarn", "status":
            return yarn_status(args)
    raise ValueError(f"unknown local command {args.action!r}")


def _local_cluster(args: argparse.Namespace) -> LocalCluster:
    extra = apply_presets(getattr(args, "preset", []), config_pairs(getattr(args, "config", [])))
    with_jars = parse_with(getattr(args, "with_jars", []))
    return LocalCluster(
        Path(args.state_dir) if args.state_dir else None,
        extra_config={key: str(value) for key, value in extra.items()} or None,
        tls=getattr(args, "tls", False),
        jars=[*(connector_jars(with_jars) if with_jars else []), *(Path(jar) for jar in getattr(args, "jar", []))],
    )


def _state_line(args: argparse.Namespace) -> str:
    """Which cluster folder a ``local`` command acts on, and why that one (see :mod:`.paths`)."""
    if args.state_dir:
        return f"State               : {args.state_dir} (--state-dir)"
    home, reason = home_and_reason()
    return f"State               : {home / 'local-cluster'} ({reason}; override with FLINKBATCH_HOME)"


def up(args: argparse.Namespace) -> int:
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


def down(args: argparse.Namespace) -> int:
    cluster = _local_cluster(args)
    info = cluster.info()
    pids = info.pids if info is not None else {}
    stopped = cluster.down()
    print(_state_line(args))
    print("stopped: " + (", ".join(f"{name} (pid {pids[name]})" for name in stopped) or "nothing was running"))
    return 0


def status(args: argparse.Namespace) -> int:
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


def _local_yarn(args: argparse.Namespace) -> LocalYarnCluster:
    return LocalYarnCluster(Path(args.yarn_state_dir) if args.yarn_state_dir else None)


def yarn_up(args: argparse.Namespace) -> int:
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


def yarn_down(args: argparse.Namespace) -> int:
    stopped = _local_yarn(args).down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def yarn_status(args: argparse.Namespace) -> int:
    status = _local_yarn(args).status()
    print(json.dumps(status, indent=2))
    return 0 if status.get("running") else 3
