"""A single-node Kafka broker in KRaft mode (no ZooKeeper) on 127.0.0.1, for tests and local runs.

Why a real broker: the Kafka connector's bounded reads (``scan.bounded.mode``), its offset and
timestamp handling and its errors for a missing topic are the connector's own behaviour; only a real
broker shows them. The jars (``org.apache.kafka:kafka_2.13`` and its runtime dependencies) come from
Maven Central through ``local/maven/kafka-broker.pom.xml`` and the jar cache (:mod:`.jars`).

Start-up is what ``kafka-storage.sh format`` + ``kafka-server-start.sh`` do, with plain ``java``: format
the log directory with a fresh cluster id (``kafka.tools.StorageTool``), then run ``kafka.Kafka`` with a
generated ``server.properties``. One process is both controller and broker; both listeners use free
loopback ports. Topics are not auto-created, so reading a topic that does not exist is an error, as in
production clusters that forbid auto-creation.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_flinkbatch.local.jars import resolve_set
from airflow_provider_flinkbatch.local.processes import free_port

_LOG4J2 = """\
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = File
appender.file.type = File
appender.file.name = File
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
"""


class KafkaBrokerError(RuntimeError):
    """The broker could not be started; the message names its log."""


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class KafkaBroker:
    """One KRaft broker+controller whose files live in ``state_dir`` (logs in ``state_dir/logs``)."""

    state_dir: Path
    heap: str = "384m"
    port: int = 0
    controller_port: int = 0
    _process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "logs" / "server.log"

    def _properties(self) -> str:
        data_dir = self.state_dir / "data"
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={data_dir}",
                "num.partitions=1",
                "auto.create.topics.enable=false",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "num.network.threads=2",
                "num.io.threads=2",
                "background.threads=2",
                "log.cleaner.enable=false",
                # keep every record: tests write events with timestamps in the past (a day being backfilled),
                # which time-based retention (7 days by default) would delete at once
                "log.retention.ms=-1",
                "",
            ]
        )

    def _java(self, main_class: str, *args: str) -> list[str]:
        classpath = os.pathsep.join(str(jar) for jar in resolve_set("kafka-broker"))
        return [
            "java",
            f"-Xmx{self.heap}",
            "-XX:+UseSerialGC",
            f"-Dkafka.logs.dir={self.state_dir / 'logs'}",
            f"-Dlog4j2.configurationFile=file:{self.state_dir / 'log4j2.properties'}",
            "-cp",
            classpath,
            main_class,
            *args,
        ]

    def start(self, timeout: float = 90.0) -> KafkaBroker:
        """Format a fresh log directory and start the broker; returns when it accepts connections."""
        if self._process is not None and self._process.poll() is None:
            return self
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.controller_port = self.controller_port or free_port()
        config = self.state_dir / "server.properties"
        config.write_text(self._properties())
        (self.state_dir / "log4j2.properties").write_text(_LOG4J2)
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        formatted = subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config), "--ignore-formatted"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if formatted.returncode != 0:
            raise KafkaBrokerError(
                f"kafka-storage format failed (exit {formatted.returncode}): "
                f"{(formatted.stderr or formatted.stdout)[-1500:]}"
            )
        out = (self.state_dir / "logs" / "broker.out").open("ab")
        try:
            self._process = subprocess.Popen(
                self._java("kafka.Kafka", str(config)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise KafkaBrokerError(f"the Kafka broker exited with {self._process.returncode}: {self._tail()}")
            if _answers(self.port) and "started (kafka.server.KafkaRaftServer)" in self._log_text():
                return self
            time.sleep(0.3)
        self.stop()
        raise KafkaBrokerError(f"the Kafka broker did not start within {timeout:.0f}s: {self._tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the broker (its process group only)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError:
            return ""

    def _tail(self, lines: int = 15) -> str:
        text = ""
        for path in (self.state_dir / "logs" / "broker.out", self.log_file):
            if path.exists():
                text += f"\n--- {path} ---\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return text or "(no output)"
