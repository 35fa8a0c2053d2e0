"""Start, stop and inspect a real local YARN cluster (Hadoop's MiniYARNCluster) plus a Flink HistoryServer.

``flinkbatch local yarn up`` runs one ResourceManager (REST API and web proxy on a fixed 127.0.0.1
port) and two NodeManagers that launch containers as local processes, in one JVM started from the
jars :mod:`~airflow_provider_flinkbatch.local.yarn_jars` caches. It writes a ``bin/flink`` that runs
Flink 2.3's own ``CliFrontend`` (``flink-dist`` carries the YARN client) with the Hadoop client on
``HADOOP_CLASSPATH``, so ``target="yarn"`` submits real ``yarn-application`` clusters here. The
``flink_yarn`` connection it prints points at all of that. State lives in one directory;
``down`` stops only what ``up`` started (the containers included).
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shlex
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_flinkbatch.distribution import FlinkDistribution
from airflow_provider_flinkbatch.local import processes
from airflow_provider_flinkbatch.local.cluster import HISTORYSERVER_CLASS
from airflow_provider_flinkbatch.local.config import JAVA_17_OPTS, LOG4J_PROPERTIES, render_config_yaml
from airflow_provider_flinkbatch.local.processes import LocalClusterError, RecordedCluster
from airflow_provider_flinkbatch.local.yarn_config import (
    LOG4J_CLI_PROPERTIES,
    LOG4J_YARN_PROPERTIES,
    SMALL_JVM_OPTS,
    YarnPorts,
    capacity_scheduler,
    client_flink_config,
    core_site,
    hadoop_xml,
    history_flink_config,
    yarn_site,
)
from airflow_provider_flinkbatch.local.yarn_jars import LAUNCHER_CLASS, HadoopJars, ensure_hadoop_jars
from airflow_provider_flinkbatch.paths import cache_dir

CLI_MAIN_CLASS = "org.apache.flink.client.cli.CliFrontend"
NODEMANAGERS = 2


@dataclass(frozen=True)
class LocalYarnInfo:
    """What a running local YARN cluster exposes."""

    rm_url: str
    history_url: str
    state_dir: str
    hadoop_conf_dir: str
    hadoop_classpath: str
    flink_cli: str
    archive_dir: str
    log_dir: str
    user: str
    pids: dict[str, int]

    def connection_extra(self) -> dict[str, Any]:
        return {
            "flink_cli": self.flink_cli,
            "hadoop_conf_dir": self.hadoop_conf_dir,
            "hadoop_classpath": self.hadoop_classpath,
            "history_server_url": self.history_url,
            "history_grace": 15,
        }

    def connection_uri_json(self) -> str:
        """A ``flink_yarn`` connection for ``AIRFLOW_CONN_FLINK_YARN_DEFAULT`` pointing at this cluster."""
        return json.dumps(
            {"conn_type": "flink_yarn", "host": self.rm_url, "login": self.user, "extra": self.connection_extra()}
        )


def _java() -> tuple[str, str]:
    """``java`` and its JAVA_HOME (the NodeManagers start containers with ``$JAVA_HOME/bin/java``)."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home) / "bin" / "java", os.X_OK):
        return str(Path(home) / "bin" / "java"), home
    found = shutil.which("java")
    if found is None:
        raise LocalClusterError("java not found: the local YARN cluster needs a Java 17 runtime (JAVA_HOME or PATH)")
    real = Path(found).resolve()
    return str(real), str(real.parent.parent)


class LocalYarnCluster(RecordedCluster[LocalYarnInfo]):
    """A MiniYARNCluster and a Flink HistoryServer whose state lives in one directory.

    :param state_dir: defaults to ``<cache>/local-yarn`` (``$FLINKBATCH_HOME``); tests pass their own.
    :param nodemanagers: NodeManagers (4 GiB of container memory each, fixed by MiniYARNCluster).
    """

    record = "yarn.json"
    info_type = LocalYarnInfo
    title = "Local YARN cluster"
    tail_lines = 20
    stop_timeout = 60.0

    def __init__(
        self,
        state_dir: Path | None = None,
        *,
        nodemanagers: int = NODEMANAGERS,
        distribution: FlinkDistribution | None = None,
        jars: HadoopJars | None = None,
    ) -> None:
        super().__init__(Path(state_dir) if state_dir else cache_dir() / "local-yarn", distribution)
        self.nodemanagers = nodemanagers
        self._jars = jars

    @property
    def jars(self) -> HadoopJars:
        if self._jars is None:
            self._jars = ensure_hadoop_jars()
        return self._jars

    @property
    def hadoop_conf_dir(self) -> Path:
        return self.state_dir / "hadoop-conf"

    @property
    def flink_conf_dir(self) -> Path:
        return self.state_dir / "flink-conf"

    @property
    def _ready_file(self) -> Path:
        return self.state_dir / "yarn.ready"

    # ----------------------------------------------------------------- queries
    def nodes(self) -> list[dict[str, Any]]:
        """The NodeManagers the ResourceManager knows (``/ws/v1/cluster/nodes``)."""
        info = self.info()
        answer = processes.get_json(f"{info.rm_url}/ws/v1/cluster/nodes") if info else None
        return list(((answer or {}).get("nodes") or {}).get("node") or [])

    def status(self) -> dict[str, object]:
        info = self.info()
        if info is None:
            return {"running": False, "reason": f"not started (no {self._state_file})"}
        alive = {name: processes.pid_alive(pid) for name, pid in info.pids.items()}
        cluster = (processes.get_json(f"{info.rm_url}/ws/v1/cluster/info") or {}).get("clusterInfo")
        history = processes.get_json(f"{info.history_url}/config")
        running_nodes = [node for node in self.nodes() if node.get("state") == "RUNNING"]
        return {
            "running": all(alive.values()) and cluster is not None and history is not None and bool(running_nodes),
            "processes": alive,
            "rm_url": info.rm_url,
            "rm_state": (cluster or {}).get("state"),
            "hadoop_version": (cluster or {}).get("hadoopVersion"),
            "nodemanagers": [node.get("nodeHTTPAddress") for node in running_nodes],
            "history_url": info.history_url,
            "hadoop_conf_dir": info.hadoop_conf_dir,
            "log_dir": info.log_dir,
        }

    # ----------------------------------------------------------------- up/down
    def up(self, timeout: float = 180.0) -> LocalYarnInfo:
        """Start the cluster, or return the running one (idempotent)."""
        current = self.info()
        if current is not None and self.status()["running"]:
            return current
        self.down()
        for sub in ("log", "archive", "staging", "work", "hadoop-conf", "flink-conf", "history-conf", "bin"):
            (self.state_dir / sub).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.state_dir / "rm-state", ignore_errors=True)  # a fresh RM: no applications of old runs
        shutil.rmtree(self.state_dir / "work", ignore_errors=True)
        (self.state_dir / "work").mkdir()
        self._ready_file.unlink(missing_ok=True)
        ports = self._choose_ports()
        jars, dist = self.jars, self.distribution
        self._write_configs(ports, jars, dist)
        info = LocalYarnInfo(
            rm_url=f"http://127.0.0.1:{ports.webapp}",
            history_url=f"http://127.0.0.1:{ports.history}",
            state_dir=str(self.state_dir),
            hadoop_conf_dir=str(self.hadoop_conf_dir),
            hadoop_classpath=jars.client_classpath(),
            flink_cli=str(self.state_dir / "bin" / "flink"),
            archive_dir=str(self.state_dir / "archive"),
            log_dir=str(self.log_dir),
            user=getpass.getuser(),
            pids={},
        )
        deadline = time.monotonic() + timeout
        pids: dict[str, int] = {}
        with self._starting():
            pids["yarn"] = self._spawn_yarn(jars, dist)
            pids["historyserver"] = self._spawn_history(dist)
            self._record(info, pids)
            self._wait(lambda: self._ready_file.exists(), "yarn", pids, deadline)
            self._wait(lambda: len(self.nodes()) >= self.nodemanagers, "yarn", pids, deadline)
            self._wait(
                lambda: processes.get_json(f"{info.history_url}/config") is not None, "historyserver", pids, deadline
            )
        return self.info() or info

    def _after_stop(self) -> None:
        """The YARN JVM stops its NodeManagers, which stop their containers; what is left of those goes too."""
        for pid in self.container_pids():  # containers run in sessions of their own (setsid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def restart_resourcemanager(self, timeout: float = 120.0) -> None:
        """Stop and start the ResourceManager inside the running cluster (same ports, state recovered)."""
        info = self.info()
        if info is None or not processes.pid_alive(info.pids["yarn"]):
            raise LocalClusterError("the local YARN cluster is not running")
        self._ready_file.write_text("requested\n")  # the launcher writes restarting, then restarted
        os.kill(info.pids["yarn"], signal.SIGHUP)
        deadline = time.monotonic() + timeout

        def settled() -> bool:
            return self._ready_file.read_text().strip() not in ("requested", "restarting")

        self._wait(settled, "yarn", info.pids, deadline)
        state = self._ready_file.read_text().strip()
        if state != "restarted":
            raise LocalClusterError(f"ResourceManager restart: {state} (log: {self.log_dir / 'yarn.out'})")
        self._wait(
            lambda: processes.get_json(f"{info.rm_url}/ws/v1/cluster/info") is not None, "yarn", info.pids, deadline
        )

    def container_pids(self) -> list[int]:
        """Processes whose working directory is inside this cluster's NodeManager directories."""
        work = str((self.state_dir / "work").resolve())
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.readlink(entry / "cwd").startswith(work):
                    found.append(int(entry.name))
        return found

    # ----------------------------------------------------------------- helpers
    def _choose_ports(self) -> YarnPorts:
        """The previous start's ports when still free (connections stay valid across down/up)."""
        return YarnPorts(
            *processes.choose_ports(self.state_dir / "yarn-ports.json", len(YarnPorts.__dataclass_fields__))
        )

    def _write_configs(self, ports: YarnPorts, jars: HadoopJars, dist: FlinkDistribution) -> None:
        client = [str(jar) for jar in jars.client_jars]
        for name, properties in (
            ("core-site.xml", core_site(self.state_dir)),
            ("yarn-site.xml", yarn_site(self.state_dir, ports, client)),
            ("capacity-scheduler.xml", capacity_scheduler()),
        ):
            (self.hadoop_conf_dir / name).write_text(hadoop_xml(properties))
        (self.hadoop_conf_dir / "log4j2.properties").write_text(LOG4J_YARN_PROPERTIES)
        (self.flink_conf_dir / "config.yaml").write_text(
            render_config_yaml(client_flink_config(state_dir=self.state_dir))
        )
        (self.flink_conf_dir / "log4j.properties").write_text(LOG4J_PROPERTIES)  # JobManager/TaskManager
        (self.flink_conf_dir / "log4j-cli.properties").write_text(LOG4J_CLI_PROPERTIES)
        history_conf = self.state_dir / "history-conf"
        (history_conf / "config.yaml").write_text(
            render_config_yaml(history_flink_config(state_dir=self.state_dir, port=ports.history))
        )
        (history_conf / "log4j.properties").write_text(LOG4J_PROPERTIES)
        self._write_flink_cli(jars, dist)

    def _write_flink_cli(self, jars: HadoopJars, dist: FlinkDistribution) -> None:
        """``bin/flink``: Flink's CliFrontend with this cluster's Flink and Hadoop configuration."""
        java, java_home = _java()
        flags = [*JAVA_17_OPTS, *SMALL_JVM_OPTS, "-Xmx384m"]
        log4j = self.flink_conf_dir / "log4j-cli.properties"
        script = f"""#!/bin/sh
# The Flink CLI of the local YARN cluster (written by `flinkbatch local yarn up`): Flink's own
# CliFrontend from {dist.home}, the Hadoop client from $HADOOP_CLASSPATH (default: the cached jars).
export JAVA_HOME={shlex.quote(java_home)}
export FLINK_CONF_DIR={shlex.quote(str(self.flink_conf_dir))}
export FLINK_LIB_DIR={shlex.quote(str(dist.lib_dir))}
export HADOOP_CONF_DIR="${{HADOOP_CONF_DIR:-{self.hadoop_conf_dir}}}"
export HADOOP_CLASSPATH="${{HADOOP_CLASSPATH:-{jars.client_classpath()}}}"
exec {shlex.quote(java)} {" ".join(shlex.quote(flag) for flag in flags)} \\
  -Dlog.file={shlex.quote(str(self.log_dir))}/flink-cli-$$.log \\
  -Dlog4j.configurationFile=file:{shlex.quote(str(log4j))} \\
  -cp {shlex.quote(dist.classpath())}:"$HADOOP_CLASSPATH":"$HADOOP_CONF_DIR" {CLI_MAIN_CLASS} "$@"
"""
        path = self.state_dir / "bin" / "flink"
        path.write_text(script)
        path.chmod(0o755)

    def _spawn_yarn(self, jars: HadoopJars, dist: FlinkDistribution) -> int:
        java, java_home = _java()
        log4j_jars = sorted(str(jar) for jar in dist.lib_dir.glob("log4j-*.jar"))
        classpath = os.pathsep.join(
            [str(self.hadoop_conf_dir), str(jars.launcher_jar), *map(str, jars.all_jars), *log4j_jars]
        )
        argv = [
            java,
            "-Xmx768m",
            *SMALL_JVM_OPTS,
            *JAVA_17_OPTS,
            f"-Dlog.file={self.log_dir / 'yarn.log'}",
            f"-Dlog4j.configurationFile=file:{self.hadoop_conf_dir / 'log4j2.properties'}",
            "-cp",
            classpath,
            LAUNCHER_CLASS,
            str(self._ready_file),
            str(self.nodemanagers),
        ]
        env = {**os.environ, "JAVA_HOME": java_home, "HADOOP_CONF_DIR": str(self.hadoop_conf_dir)}
        env.pop("HADOOP_CLASSPATH", None)
        return processes.spawn(self.log_dir, "yarn", argv, env, cwd=self.state_dir / "work")

    def _spawn_history(self, dist: FlinkDistribution) -> int:
        java, _ = _java()
        conf = self.state_dir / "history-conf"
        argv = [
            java,
            "-Xmx256m",
            *SMALL_JVM_OPTS,
            *JAVA_17_OPTS,
            f"-Dlog.file={self.log_dir / 'historyserver.log'}",
            f"-Dlog4j.configurationFile=file:{conf / 'log4j.properties'}",
            "-cp",
            dist.classpath(),
            HISTORYSERVER_CLASS,
            "--configDir",
            str(conf),
        ]
        return processes.spawn(
            self.log_dir, "historyserver", argv, {**os.environ, "FLINK_CONF_DIR": str(conf)}, cwd=self.state_dir
        )
