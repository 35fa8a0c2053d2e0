"""A real Celeborn master and worker on 127.0.0.1 (free ports), from the source build in the cache.

Why: the ``celeborn`` preset only means something when Flink's shuffle really goes through a Celeborn
worker; its metrics (``/metrics/prometheus`` on the worker's HTTP port) and the master's REST API
(``/api/v1/workers``, ``/api/v1/applications``) show that it did. The processes are what Celeborn's
``sbin/start-master.sh`` / ``start-worker.sh`` run (same main classes and ``--add-opens`` flags), with plain
``java`` and a generated ``celeborn-defaults.conf``: every port is a free loopback port, HA is off, the
worker stores shuffle data under the state directory. Not yet run: no Celeborn build has completed here.
"""

from __future__ import annotations

import re
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_flinkbatch.local.celeborn_build import CelebornBuild
from airflow_provider_flinkbatch.local.processes import (
    LocalClusterError,
    Startup,
    free_port,
    get_json,
    spawn,
    stop_groups,
)

MASTER_CLASS = "org.apache.celeborn.service.deploy.master.Master"
WORKER_CLASS = "org.apache.celeborn.service.deploy.worker.Worker"
#: From Celeborn's sbin/start-{master,worker}.sh: what its Netty and Ratis code needs on Java 17
_OPENS = ("java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio", "java.util",
          "java.util.concurrent", "java.util.concurrent.atomic", "jdk.internal.misc", "sun.nio.ch", "sun.nio.cs",
          "sun.security.action", "sun.util.calendar")  # fmt: skip
_JAVA_OPTS = [
    "-XX:+IgnoreUnrecognizedVMOptions",
    "-XX:+UseSerialGC",
    "-Dio.netty.tryReflectionSetAccessible=true",
    *(f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in _OPENS),
]
_LOG4J2 = """\
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = File
appender.file.type = File
appender.file.name = File
appender.file.fileName = ${sys:celeborn.log.file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{HH:mm:ss,SSS} %p [%t] %c{1}: %m%n%ex
"""
_METRIC = re.compile(r"^(?P<name>[A-Za-z_:][\w:]*)(?:\{[^}]*\})?\s+(?P<value>[-+0-9.eE]+|NaN)$")


def parse_prometheus(text: str) -> dict[str, float]:
    """``{metric name: value summed over its label sets}`` from Prometheus' text format."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        match = _METRIC.match(line.strip())
        if match and match.group("value") != "NaN":
            values[match.group("name")] = values.get(match.group("name"), 0.0) + float(match.group("value"))
    return values


@dataclass
class LocalCeleborn:
    """One master and one worker whose config, logs and shuffle data live in ``state_dir``."""

    build: CelebornBuild
    state_dir: Path
    master_heap: str = "256m"
    worker_heap: str = "384m"
    worker_direct_memory: str = "512m"
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def master_endpoint(self) -> str:
        """What ``celeborn.master.endpoints`` must say."""
        return f"127.0.0.1:{self.ports['master']}"

    @property
    def master_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['master_http']}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['worker_http']}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def shuffle_dir(self) -> Path:
        return self.state_dir / "worker-data"

    def _config(self) -> dict[str, str]:
        port = self.ports
        return {
            "celeborn.master.host": "127.0.0.1",
            "celeborn.master.port": str(port["master"]),
            "celeborn.master.http.host": "127.0.0.1",
            "celeborn.master.http.port": str(port["master_http"]),
            "celeborn.master.internal.port": str(port["master_internal"]),
            "celeborn.master.endpoints": self.master_endpoint,
            "celeborn.master.ha.enabled": "false",
            "celeborn.worker.rpc.port": str(port["worker_rpc"]),
            "celeborn.worker.push.port": str(port["worker_push"]),
            "celeborn.worker.fetch.port": str(port["worker_fetch"]),
            "celeborn.worker.replicate.port": str(port["worker_replicate"]),
            "celeborn.worker.http.host": "127.0.0.1",
            "celeborn.worker.http.port": str(port["worker_http"]),
            "celeborn.worker.internal.port": str(port["worker_internal"]),
            "celeborn.worker.storage.dirs": str(self.shuffle_dir),
            "celeborn.worker.monitor.disk.enabled": "false",  # a shared tmp disk is no device to watch
            "celeborn.metrics.enabled": "true",
        }

    def _java(self, name: str, main_class: str, classpath: list[Path], memory: list[str]) -> int:
        conf = self.state_dir / "conf"
        argv = [
            "java",
            *memory,
            *_JAVA_OPTS,
            f"-Dceleborn.log.file={self.log_dir / f'{name}.log'}",
            f"-Dlog4j2.configurationFile=file:{conf / 'log4j2.properties'}",
            "-cp",
            ":".join([str(conf), *(str(jar) for jar in classpath)]),
            main_class,
            "--properties-file",
            str(conf / "celeborn-defaults.conf"),
        ]
        return spawn(self.log_dir, name, argv, {"PATH": "/usr/bin:/bin", "CELEBORN_CONF_DIR": str(conf)})

    def start(self, timeout: float = 120.0) -> LocalCeleborn:
        """Start the master, then the worker; returns when the master lists the worker as registered."""
        if self.pids:
            return self
        names = ("master", "master_http", "master_internal", "worker_rpc", "worker_push", "worker_fetch",
                 "worker_replicate", "worker_http", "worker_internal")  # fmt: skip
        while len(set(self.ports.values())) != len(names):
            self.ports = {name: free_port() for name in names}
        conf = self.state_dir / "conf"
        for folder in (conf, self.log_dir, self.shuffle_dir):
            folder.mkdir(parents=True, exist_ok=True)
        (conf / "celeborn-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in self._config().items()))
        (conf / "log4j2.properties").write_text(_LOG4J2)
        startup = Startup("Local Celeborn", self.log_dir, 20)
        deadline = time.monotonic() + timeout
        try:
            self.pids["master"] = self._java("master", MASTER_CLASS, self.build.master_classpath,
                                             [f"-Xmx{self.master_heap}"])  # fmt: skip
            startup.wait(lambda: self.workers() is not None, "master", self.pids, deadline)
            self.pids["worker"] = self._java(
                "worker",
                WORKER_CLASS,
                self.build.worker_classpath,
                [f"-Xmx{self.worker_heap}", f"-XX:MaxDirectMemorySize={self.worker_direct_memory}"],
            )
            startup.wait(lambda: bool(self.workers()), "worker", self.pids, deadline)
        except LocalClusterError:
            self.stop()
            raise
        return self

    def workers(self) -> list[dict[str, Any]] | None:
        """The workers the master has registered (``/api/v1/workers``), or None while it does not answer."""
        answer = get_json(f"{self.master_url}/api/v1/workers")
        return None if answer is None else list(answer.get("workers") or [])

    def applications(self) -> list[dict[str, Any]]:
        """The applications (Flink jobs' shuffle masters) the master knows (``/api/v1/applications``)."""
        return list((get_json(f"{self.master_url}/api/v1/applications") or {}).get("applications") or [])

    def worker_metrics(self) -> dict[str, float]:
        """The worker's metrics (``/metrics/prometheus``), by name."""
        with urllib.request.urlopen(f"{self.worker_url}/metrics/prometheus", timeout=5) as answer:  # noqa: S310
            return parse_prometheus(answer.read().decode())

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the worker, then the master (their process groups only)."""
        stop_groups(dict(reversed(list(self.pids.items()))), timeout)
        self.pids = {}

    def __enter__(self) -> LocalCeleborn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
