"""Start, stop and inspect a standalone Flink session cluster on 127.0.0.1 with plain ``java``.

The wheel has no ``bin/`` scripts, so this module does what ``start-cluster.sh`` would: write the
config, ask ``BashJavaUtils`` for the memory flags (the TaskManager refuses to start without them),
then start JobManager, TaskManager (after the JobManager's REST answers) and HistoryServer as
detached processes. Ports are picked free; ``down`` stops only the processes ``up`` recorded.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from airflow_provider_flinkbatch.distribution import FlinkDistribution
from airflow_provider_flinkbatch.local.celeborn import CelebornUnavailable, check_celeborn
from airflow_provider_flinkbatch.local.config import (
    JAVA_17_OPTS,
    LOG4J_PROPERTIES,
    local_flink_config,
    render_config_yaml,
)
from airflow_provider_flinkbatch.local.processes import (
    LocalClusterError,
    RecordedCluster,
    choose_ports,
    get_json,
    pid_alive,
    spawn,
)
from airflow_provider_flinkbatch.local.tls import LocalTls
from airflow_provider_flinkbatch.paths import cache_dir

JOBMANAGER_CLASS = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
TASKMANAGER_CLASS = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
HISTORYSERVER_CLASS = "org.apache.flink.runtime.webmonitor.history.HistoryServer"
_COMPONENTS = ("jobmanager", "taskmanager", "historyserver")


@dataclass(frozen=True)
class LocalClusterInfo:
    """What a running local cluster exposes: URLs and the directories users look into."""

    rest_url: str
    history_url: str
    state_dir: str
    log_dir: str
    archive_dir: str
    pids: dict[str, int]
    tls_dir: str | None = None
    #: Connector/format jars on the JobManager's and TaskManager's classpath (``--with``, local/jars.py).
    jars: list[str] = field(default_factory=list)

    def tls(self) -> LocalTls:
        assert self.tls_dir, "cluster was started without TLS"
        return LocalTls.create(Path(self.tls_dir))

    def connection_uri_json(self) -> str:
        """A ``flink_batch`` connection for ``AIRFLOW_CONN_<ID>`` pointing at this cluster."""
        return json.dumps(
            {
                "conn_type": "flink_batch",
                "host": self.rest_url,
                "extra": {
                    "history_server_url": self.history_url,
                    "archive_dir": Path(self.archive_dir).as_uri(),
                    **(self.tls().connection_extra() if self.tls_dir else {}),
                },
            }
        )


class LocalCluster(RecordedCluster[LocalClusterInfo]):
    """A local Flink session cluster whose state lives in one directory.

    :param state_dir: config, logs, pid/state files, uploaded jars and job archives; defaults to
        ``<state>/local-cluster``, ``<state>`` as :mod:`airflow_provider_flinkbatch.paths` finds it (the
        project's ``.flinkbatch/``, as ``scripts/demo.sh`` uses). Tests pass their own temporary directory.
    :param extra_config: Flink options added to (or overriding) the local defaults.
    :param tls: serve the REST API over mutual TLS with generated certificates (``<state>/tls``).
    :param jars: extra jars (connectors, formats) put on the JobManager's and TaskManager's classpath, as
        if they were in Flink's ``lib/``: the JobManager plans the SQL, the TaskManager runs it.
    """

    record = "cluster.json"
    info_type = LocalClusterInfo
    title = "Local Flink cluster"

    def __init__(
        self,
        state_dir: Path | None = None,
        distribution: FlinkDistribution | None = None,
        extra_config: dict[str, str] | None = None,
        tls: bool = False,
        jars: Sequence[Path] = (),
    ) -> None:
        super().__init__(Path(state_dir) if state_dir else cache_dir() / "local-cluster", distribution)
        self.extra_config = dict(extra_config or {})
        self.use_tls = tls
        self.jars = [str(Path(jar).resolve()) for jar in jars]

    @property
    def conf_dir(self) -> Path:
        return self.state_dir / "conf"

    def status(self) -> dict[str, object]:
        """Per component: recorded pid alive, and whether REST answers."""
        info = self.info()
        if info is None:
            reason = f"not started (no {self._state_file})"
            return {"running": False, "state_dir": str(self.state_dir), "reason": reason}
        alive = {name: pid_alive(pid) for name, pid in info.pids.items()}
        overview = get_json(f"{info.rest_url}/overview", tls=info.tls() if info.tls_dir else None)
        history = get_json(f"{info.history_url}/config")
        running = all(alive.values()) and overview is not None and history is not None
        return {
            "running": running,
            "state_dir": info.state_dir,
            "processes": alive,
            "pids": dict(info.pids),
            "rest_url": info.rest_url,
            "history_url": info.history_url,
            "rest_answers": overview is not None,
            "history_answers": history is not None,
            "taskmanagers": (overview or {}).get("taskmanagers"),
            "slots_available": (overview or {}).get("slots-available"),
            "log_dir": info.log_dir,
            "jars": [Path(jar).name for jar in info.jars],
        }

    # ----------------------------------------------------------------- up/down
    def up(self, timeout: float = 120.0) -> LocalClusterInfo:
        """Start the cluster, or return the running one (idempotent)."""
        current = self.info()
        if current is not None and self.status()["running"]:
            lacking = [Path(jar).name for jar in self.jars if jar not in current.jars]
            if lacking:
                raise LocalClusterError(
                    f"the local cluster at {current.rest_url} runs without {', '.join(lacking)}: stop it "
                    "(`flinkbatch local down`) and start it again with the jars it should load"
                )
            return current
        try:  # before any JVM starts: a TaskManager that cannot load the shuffle service never registers
            check_celeborn(self.extra_config, [Path(jar) for jar in self.jars])
        except CelebornUnavailable as err:
            raise LocalClusterError(f"Local Flink cluster not started: {err}") from err
        self.down()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for sub in ("uploads", "tmp", "archive"):
            (self.state_dir / sub).mkdir(exist_ok=True)
        rest_port, rpc_port, history_port = self._choose_ports()
        config = local_flink_config(
            state_dir=self.state_dir, rest_port=rest_port, rpc_port=rpc_port, history_port=history_port
        )
        tls = LocalTls.create(self.state_dir / "tls") if self.use_tls else None
        if tls is not None:
            config.update(tls.flink_options())
        config.update(self.extra_config)
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "config.yaml").write_text(render_config_yaml(config))
        (self.conf_dir / "log4j.properties").write_text(LOG4J_PROPERTIES)

        info = LocalClusterInfo(
            rest_url=f"{'https' if tls else 'http'}://127.0.0.1:{rest_port}",
            history_url=f"http://127.0.0.1:{history_port}",
            state_dir=str(self.state_dir),
            log_dir=str(self.log_dir),
            archive_dir=str(self.state_dir / "archive"),
            pids={},
            tls_dir=str(tls.folder) if tls else None,
            jars=list(self.jars),
        )
        deadline = time.monotonic() + timeout
        pids: dict[str, int] = {}
        with self._starting():
            jm_jvm, jm_dynamic = self._resource_params("GET_JM_RESOURCE_PARAMS")
            pids["jobmanager"] = self._spawn("jobmanager", JOBMANAGER_CLASS, jm_jvm, jm_dynamic)
            self._record(info, pids)
            self._wait(lambda: get_json(f"{info.rest_url}/overview", tls=tls) is not None, "jobmanager", pids, deadline)
            tm_jvm, tm_dynamic = self._resource_params("GET_TM_RESOURCE_PARAMS")
            pids["taskmanager"] = self._spawn("taskmanager", TASKMANAGER_CLASS, tm_jvm, tm_dynamic)
            pids["historyserver"] = self._spawn("historyserver", HISTORYSERVER_CLASS, ["-Xmx256m"], [])
            self._record(info, pids)
            self._wait(
                lambda: ((get_json(f"{info.rest_url}/overview", tls=tls) or {}).get("taskmanagers") or 0) >= 1,
                "taskmanager",
                pids,
                deadline,
            )
            self._wait(lambda: get_json(f"{info.history_url}/config") is not None, "historyserver", pids, deadline)
        return self.info() or info

    # ----------------------------------------------------------------- helpers
    def _choose_ports(self) -> tuple[int, int, int]:
        """The ports of the previous start when they are still free (URLs and connections stay valid
        across ``down``/``up``), else fresh free ports."""
        rest, rpc, history = choose_ports(self.state_dir / "ports.json", 3)
        return rest, rpc, history

    def _resource_params(self, command: str) -> tuple[list[str], list[str]]:
        """JVM memory flags and ``-D`` dynamic properties, computed by Flink itself from the config."""
        dist = self.distribution
        result = subprocess.run(
            [
                "java",
                "-cp",
                f"{dist.bash_java_utils_jar}{os.pathsep}{dist.dist_jar}",
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                command,
                "--configDir",
                str(self.conf_dir),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        lines = [
            line.split("BASH_JAVA_UTILS_EXEC_RESULT:", 1)[1]
            for line in result.stdout.splitlines()
            if "BASH_JAVA_UTILS_EXEC_RESULT:" in line
        ]
        if result.returncode != 0 or len(lines) < 2:
            raise LocalClusterError(
                f"BashJavaUtils {command} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"
            )
        return lines[0].split(), lines[1].split()

    def _spawn(self, name: str, main_class: str, jvm_flags: list[str], dynamic: list[str]) -> int:
        log_file = self.log_dir / f"{name}.log"
        argv = [
            "java",
            *jvm_flags,
            *JAVA_17_OPTS,
            f"-Dlog.file={log_file}",
            f"-Dlog4j.configurationFile=file:{self.conf_dir / 'log4j.properties'}",
            "-cp",
            os.pathsep.join([self.distribution.classpath(), *(self.jars if name != "historyserver" else [])]),
            main_class,
            "--configDir",
            str(self.conf_dir),
            *dynamic,
        ]
        return spawn(self.log_dir, name, argv, {**os.environ, "FLINK_CONF_DIR": str(self.conf_dir)})


def running_local_cluster() -> LocalClusterInfo | None:
    """The cluster ``flinkbatch local up`` (or ``scripts/demo.sh``) started in this project, if it is running."""
    cluster = LocalCluster()
    info = cluster.info()
    return info if info is not None and cluster.status().get("running") else None
