"""A real Airflow 3 deployment in processes: api-server, scheduler, dag-processor, triggerer on SQLite.

What ``airflow standalone`` runs, but started one by one so the test controls ports, config and
shutdown: a private ``AIRFLOW_HOME``, the API server on a free port, LocalExecutor (Airflow 3 allows
it on SQLite), SimpleAuthManager with every user an admin (no login page) unless ``users`` are given
(then real logins: :meth:`token` gets a user's JWT, and :meth:`api` calls as ``admin``), one DAG bundle.
Every process gets its own process group and is stopped in ``stop()`` (TERM, then KILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AirflowProcesses:
    """Start, talk to (REST API v2) and stop one Airflow deployment."""

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        extra_env: dict[str, str],
        users: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        """``users``: name -> (SimpleAuthManager role, password); must include ``admin`` (the API helper's)."""
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.users = users or {}
        self.env = self._environment(dags_folder, extra_env)
        self._tokens: dict[str, str] = {}

    def _environment(self, dags_folder: Path, extra_env: dict[str, str]) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "PYTEST"))}
        bundle = {
            "name": "examples",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(dags_folder), "refresh_interval": 5},
        }
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([bundle]),
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__CORE__AUTH_MANAGER": (
                    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
                ),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": self.url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
                # Every component signs/verifies task tokens with the same secret.
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            }
        )
        if self.users:
            passwords = self.home / "simple_auth_manager_passwords.json"
            self.home.mkdir(parents=True, exist_ok=True)
            passwords.write_text(json.dumps({name: password for name, (_, password) in self.users.items()}))
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] = "False"
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = ",".join(
                f"{name}:{role}" for name, (role, _) in self.users.items()
            )
            env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(passwords)
        env.update(extra_env)
        return env

    def token(self, user: str) -> str:
        """A JWT for ``user`` from the real login endpoint (``POST /auth/token``)."""
        import requests

        if user not in self._tokens:
            _, password = self.users[user]
            response = requests.post(
                f"{self.url}/auth/token", json={"username": user, "password": password}, timeout=30
            )
            if response.status_code >= 400:
                raise RuntimeError(f"login as {user} -> {response.status_code}: {response.text[:500]}")
            self._tokens[user] = str(response.json()["access_token"])
        return self._tokens[user]

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run one ``airflow`` CLI command in this deployment; fail with its output."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result.stdout

    def start(self, timeout: float = 240) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate")
        for component in COMPONENTS:
            log = (self.home / f"{component}.log").open("wb")
            self.processes[component] = subprocess.Popen(
                [sys.executable, "-m", "airflow", component],
                env=self.env,
                # Not the source checkout: its *.egg-info would be a second copy of the provider's
                # distribution on sys.path, and Airflow would load the entry-point plugin twice.
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
        self.wait_until(self._healthy, timeout, "the Airflow API server and scheduler to report healthy")

    def _healthy(self) -> bool:
        import requests

        try:
            health = requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
        except (requests.RequestException, ValueError):
            return False
        return health.get("metadatabase", {}).get("status") == "healthy"

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """One REST API v2 call (as ``admin`` when there are users, else the all-admins middleware's)."""
        import requests

        if self.users:
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {self.token('admin')}"
        for attempt in range(5):
            try:
                response = requests.request(method, f"{self.url}/api/v2{path}", timeout=30, **kwargs)
            except requests.Timeout:
                # A loaded machine (2 cores, shared) can hold a read past 30 s; reading again is safe,
                # sending a write again is not (it may have happened).
                if method != "GET" or attempt == 4:
                    raise
                continue
            # SQLite has one writer: a busy database surfaces as a 500 "Database error"; the
            # request's transaction was rolled back, so trying again is safe.
            if response.status_code != 500 or "Database error" not in response.text or attempt == 4:
                break
            time.sleep(1 + attempt)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} -> {response.status_code}: {response.text[:2000]}")
        return response.json() if response.content else None

    def asset_events(self, source_dag_id: str, timeout: float = 60) -> list[dict[str, Any]]:
        """``GET /assets/events`` of one DAG's runs.

        Airflow 3.3 answers 500 while a DAG run that an event created has no ``start_date`` yet (its
        ``AssetEventResponse`` requires one): asked again until that run has started.
        """

        def ask() -> tuple[list[dict[str, Any]]] | None:
            try:
                return (self.api("GET", "/assets/events", params={"source_dag_id": source_dag_id})["asset_events"],)
            except RuntimeError as err:
                if "-> 500" not in str(err):
                    raise
                return None

        return list(self.wait_until(ask, timeout, f"the asset events of {source_dag_id}")[0])

    def wait_until(self, check: Any, timeout: float, what: str, interval: float = 1.0) -> Any:
        """Poll ``check()`` until truthy; on timeout say what was awaited and show the component logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
            if dead:
                raise RuntimeError(f"Airflow component(s) exited {dead} while waiting for {what}\n{self.log_tails()}")
            value = check()
            if value:
                return value
            time.sleep(interval)
        raise TimeoutError(f"waited {timeout:.0f}s in vain for {what}\n{self.log_tails()}")

    def log_tails(self, lines: int = 25) -> str:
        parts = []
        for component in COMPONENTS:
            log = self.home / f"{component}.log"
            if log.exists():
                tail = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {component} ---\n" + "\n".join(tail))
        return "\n".join(parts)

    @contextlib.contextmanager
    def paused(self, component: str) -> Iterator[None]:
        """One component frozen (SIGSTOP to its process group) while the block runs, then resumed (SIGCONT):
        a triggerer that is busy, restarting or down, as far as the others can tell."""
        process = self.processes[component]
        _signal_group(process, signal.SIGSTOP)
        try:
            yield
        finally:
            _signal_group(process, signal.SIGCONT)

    def stop(self, timeout: float = 30) -> None:
        """TERM every component's process group, then KILL what is left."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        # Task runners and gunicorn/uvicorn workers live in the same groups: make sure none is left.
        for process in self.processes.values():
            _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
