"""Real Airflow 3.3 processes running the deferrable DAGs of ``tests/dags/flinkbatch_deferred_dags.py``.

Shared by the user-action tests (``tests/triggers/test_user_action.py``), the defer-race test
(``tests/targets/test_grace.py``) and the 50-run drill (``tests/drills/defer_race.py``): one deployment
(api-server, scheduler, dag-processor, triggerer, LocalExecutor) whose DAG folder holds only those DAGs, talking
to a real Flink session cluster, plus the REST API v2 calls a user's clicks make (trigger, clear, mark).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import requests
from airflow_processes import AirflowProcesses

DAG_FILE = Path(__file__).resolve().parent / "dags" / "flinkbatch_deferred_dags.py"
DAGS = ("deferred_slow", "deferred_short")
TASK = "job"
ENDED = ("success", "failed", "upstream_failed", "skipped")
#: What the scheduler logs when the defer race of Airflow 3.3 fails a task (apache/airflow #67287).
RACE_MESSAGE = "but the task instance's state attribute is"


class DeferredDeployment:
    """One Airflow deployment for the deferred DAGs; ``env``: extra settings (e.g. the grace)."""

    def __init__(self, home: Path, rest_url: str, connection_json: str, env: dict[str, str] | None = None) -> None:
        dags = home / "dags"
        dags.mkdir(parents=True, exist_ok=True)
        shutil.copy(DAG_FILE, dags / DAG_FILE.name)
        conn = json.loads(connection_json)
        conn.setdefault("extra", {})["timeout"] = 120  # planning on 2 busy cores is slow
        self.rest_url = rest_url
        self.airflow = AirflowProcesses(
            home / "airflow",
            dags,
            {
                "AIRFLOW_CONN_FLINK_BATCH_DEFAULT": json.dumps(conn),
                "AIRFLOW__CORE__PARALLELISM": "6",
                "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "6",
                **(env or {}),
            },
        )

    def start(self) -> None:
        self.airflow.start()
        self.airflow.wait_until(self._parsed, 180, "the dag-processor to parse the deferred DAGs")

    def stop(self) -> None:
        self.airflow.stop()

    def _parsed(self) -> bool:
        return set(DAGS) <= {dag["dag_id"] for dag in self.airflow.api("GET", "/dags")["dags"]}

    # ------------------------------------------------------------------ a user's actions
    def trigger(self, dag_id: str, run_id: str) -> None:
        """Start a DAG run. A POST that timed out on a busy machine may have happened: look before sending again."""
        for _ in range(5):
            try:
                self.airflow.api("POST", f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
                return
            except requests.Timeout:
                try:
                    self.airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
                    return
                except RuntimeError:  # 404: it did not happen
                    continue
        raise TimeoutError(f"could not trigger {dag_id}/{run_id}: the API server kept timing out")

    def ti(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK}"))

    def mark(self, dag_id: str, run_id: str, state: str) -> None:
        self.airflow.api("PATCH", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK}", json={"new_state": state})

    def clear(self, dag_id: str, run_id: str) -> None:
        body = {"dry_run": False, "task_ids": [TASK], "dag_run_id": run_id, "only_failed": False}
        self.airflow.api("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)

    def wait_for_state(self, dag_id: str, run_id: str, states: tuple[str, ...], timeout: float = 300) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            ti = self.ti(dag_id, run_id)
            return ti if ti["state"] in states else None

        return dict(self.airflow.wait_until(reached, timeout, f"{dag_id}/{run_id} to be {'/'.join(states)}", 1))

    def wait_for_run_end(self, dag_id: str, run_id: str, timeout: float = 120) -> str:
        """Until the scheduler has ended the DAG run (its state, once success or failed)."""

        def ended() -> str | None:
            state = str(self.airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])
            return state if state in ("success", "failed") else None

        return str(self.airflow.wait_until(ended, timeout, f"the scheduler to end the DAG run {dag_id}/{run_id}", 1))

    def wait_for_try(self, dag_id: str, run_id: str, try_number: int, timeout: float = 300) -> dict[str, Any]:
        """The task instance once its try ``try_number`` ended."""

        def ended() -> dict[str, Any] | None:
            ti = self.ti(dag_id, run_id)
            return ti if ti["try_number"] >= try_number and ti["state"] in ENDED else None

        return dict(self.airflow.wait_until(ended, timeout, f"try {try_number} of {dag_id}/{run_id} to end", 1))

    def task_log(self, dag_id: str, run_id: str, try_number: int) -> str:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{TASK}/logs/{try_number}"
        answer = self.airflow.api("GET", path, params={"full_content": "true"}, headers={"Accept": "application/json"})
        content = answer.get("content") if isinstance(answer, dict) else answer
        if isinstance(content, list):
            return "\n".join(str(line.get("event", line)) if isinstance(line, dict) else str(line) for line in content)
        return str(content)

    def all_logs(self) -> str:
        """Every log file of the deployment (components, tasks, triggers): for lines whose file is not fixed."""
        files = [*self.airflow.home.glob("*.log"), *(self.airflow.home / "logs").rglob("*.log*")]
        return "\n".join(path.read_text(errors="replace") for path in files if path.is_file())

    def trigger_log(self, dag_id: str, run_id: str, try_number: int = 1) -> str:
        """What the triggerer logged for the try's trigger ('' while no triggerer has started it)."""
        folder = self.airflow.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={TASK}"
        files = sorted(folder.glob(f"attempt={try_number}.log.trigger.*.log"))
        return "\n".join(path.read_text(errors="replace") for path in files)

    def wait_for_trigger_running(self, dag_id: str, run_id: str, timeout: float = 300) -> None:
        """Until a triggerer runs the try's trigger (its own log says so)."""
        self.airflow.wait_until(
            lambda: "starting" in self.trigger_log(dag_id, run_id), timeout, f"the trigger of {dag_id}/{run_id}"
        )

    def component_log(self, component: str) -> str:
        path = self.airflow.home / f"{component}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # ------------------------------------------------------------------ Flink's side
    def flink_jobs(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """This run's Flink jobs (``/jobs/overview``), oldest first."""
        jobs = requests.get(f"{self.rest_url}/jobs/overview", timeout=10).json()["jobs"]
        return sorted((j for j in jobs if j["name"] == f"{dag_id}.{run_id}"), key=lambda j: j["start-time"])

    def wait_for_jobs(self, dag_id: str, run_id: str, states: set[str], timeout: float = 120) -> list[dict[str, Any]]:
        """This run's jobs once all are in ``states`` (and there is at least one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.flink_jobs(dag_id, run_id)
            if jobs and all(job["state"] in states for job in jobs):
                return jobs
            time.sleep(0.5)
        raise AssertionError(
            f"jobs of {dag_id}/{run_id} not all in {states} in {timeout}s: {self.flink_jobs(dag_id, run_id)}"
        )

    def job_config(self, job_id: str) -> dict[str, str]:
        """The job's global job parameters (``/jobs/<id>/config`` user-config): its ``airflow.*`` identity."""
        answer = requests.get(f"{self.rest_url}/jobs/{job_id}/config", timeout=10).json()
        return {str(key): str(value) for key, value in answer["execution-config"]["user-config"].items()}
