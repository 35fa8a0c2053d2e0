"""The detached JVMs of the local clusters (Flink session, YARN, Kafka): ports, start, wait, stop, in one place.

Both ``flinkbatch local up`` and ``flinkbatch local yarn up`` start Java processes in process groups of
their own, record their pids in the cluster's state directory, wait until each answers (failing with
the tail of its log as soon as one dies), and stop only the groups they recorded. Ports that a previous
start used are taken again when they are still free, so URLs and Airflow connections stay valid across
``down``/``up``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from airflow_provider_flinkbatch.distribution import FlinkDistribution, find_flink_distribution
from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.local.tls import LocalTls

Info = TypeVar("Info")


class LocalClusterError(FlinkBatchError, RuntimeError):
    """The local cluster could not start or answer; the message names the log to read."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Flink's servers do (TIME_WAIT is fine)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def choose_ports(ports_file: Path, count: int) -> list[int]:
    """``count`` distinct ports: the ones recorded in ``ports_file`` when all are still free, else fresh ones."""
    try:
        previous = [int(port) for port in json.loads(ports_file.read_text())]
    except (OSError, ValueError, TypeError):
        previous = []
    if len(previous) == count and len(set(previous)) == count and all(port_is_free(p) for p in previous):
        chosen = previous
    else:
        chosen = []
        while len(chosen) < count:
            port = free_port()
            if port not in chosen:
                chosen.append(port)
    ports_file.write_text(json.dumps(chosen))
    return chosen


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as dead
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def get_json(url: str, timeout: float = 2.0, tls: LocalTls | None = None) -> Any:
    """The JSON a local server answers at ``url``, or None when it does not (yet)."""
    context = None
    if tls is not None and url.startswith("https"):
        context = ssl.create_default_context(cafile=str(tls.ca))
        context.load_cert_chain(str(tls.client_cert), str(tls.client_key))
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:  # noqa: S310 - local only
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def spawn(log_dir: Path, name: str, argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> int:
    """Start ``argv`` detached, output appended to ``<log_dir>/<name>.out``; returns its pid."""
    out = open(log_dir / f"{name}.out", "ab")  # noqa: SIM115 - handed to the child process
    try:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # own process group: `down` stops it and its children only
            env=dict(env),
            cwd=cwd,
        )
    finally:
        out.close()
    return process.pid


def stop_groups(pids: Mapping[str, int], timeout: float, poll: float = 0.1) -> list[str]:
    """SIGTERM each recorded process group, SIGKILL what is left after ``timeout``; the names that were running."""
    stopped = []
    for name, pid in pids.items():
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGTERM)
                stopped.append(name)
    deadline = time.monotonic() + timeout
    for pid in pids.values():
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(poll)
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
    return stopped


class Startup:
    """Waiting for the processes of one cluster: fails fast, naming the process and its log, when one dies.

    :param title: how the error calls the cluster ("Local Flink cluster").
    :param log_dir: where ``<name>.out`` / ``<name>.log`` of each process are.
    :param tail_lines: how many last lines of each log the error quotes.
    """

    def __init__(self, title: str, log_dir: Path, tail_lines: int) -> None:
        self.title = title
        self.log_dir = log_dir
        self.tail_lines = tail_lines

    def wait(self, ready: Callable[[], bool], name: str, pids: Mapping[str, int], deadline: float) -> None:
        """Until ``ready()``; ``name`` is the process the error blames when time runs out."""
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [n for n, pid in pids.items() if not pid_alive(pid)]
            if dead:
                raise LocalClusterError(self.failure(f"{', '.join(dead)} exited while starting", dead[0]))
            time.sleep(0.25)
        raise LocalClusterError(self.failure(f"{name} not ready in time", name))

    def failure(self, what: str, name: str) -> str:
        tail = ""
        for suffix in (".out", ".log"):
            path = self.log_dir / f"{name}{suffix}"
            if path.exists():
                lines = path.read_text(errors="replace").splitlines()
                tail += f"\n--- last lines of {path} ---\n" + "\n".join(lines[-self.tail_lines :])
        return f"{self.title}: {what}. Logs: {self.log_dir}{tail}"


class RecordedCluster(Generic[Info]):
    """A local cluster whose state lives in one directory: ``<state>/<record>`` holds what ``up`` started.

    Subclasses name the record file, its dataclass ``Info`` (with a ``pids`` field) and how errors call them.
    """

    record: ClassVar[str]
    info_type: ClassVar[type[Any]]
    title: ClassVar[str]
    tail_lines: ClassVar[int] = 15
    stop_timeout: ClassVar[float] = 20.0

    def __init__(self, state_dir: Path, distribution: FlinkDistribution | None) -> None:
        self.state_dir = state_dir
        self._distribution = distribution

    @property
    def distribution(self) -> FlinkDistribution:
        if self._distribution is None:
            self._distribution = find_flink_distribution()
        return self._distribution

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def _state_file(self) -> Path:
        return self.state_dir / self.record

    def info(self) -> Info | None:
        """The recorded cluster, or None when ``up`` never ran here."""
        try:
            info: Info = self.info_type(**json.loads(self._state_file.read_text()))
            return info
        except (OSError, ValueError, TypeError):
            return None

    def _record(self, info: Info, pids: dict[str, int]) -> None:
        self._state_file.write_text(json.dumps(asdict(info) | {"pids": dict(pids)}, indent=2))  # type: ignore[call-overload]

    def _wait(self, ready: Callable[[], bool], name: str, pids: dict[str, int], deadline: float) -> None:
        Startup(self.title, self.log_dir, self.tail_lines).wait(ready, name, pids, deadline)

    @contextlib.contextmanager
    def _starting(self) -> Iterator[None]:
        """Whatever fails while ``up`` starts the processes (Ctrl-C included) stops what it started."""
        try:
            yield
        except BaseException:
            self.down()
            raise

    def down(self, timeout: float | None = None) -> list[str]:
        """Stop the processes that ``up`` recorded (and nothing else). Returns the names stopped."""
        info: Any = self.info()
        if info is None:
            return []
        stopped = stop_groups(info.pids, self.stop_timeout if timeout is None else timeout)
        self._after_stop()
        self._state_file.unlink(missing_ok=True)
        return stopped

    def _after_stop(self) -> None:
        """What goes with the recorded processes besides their process groups (nothing by default)."""
