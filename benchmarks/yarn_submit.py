"""YARN submit and end detection on a REAL ResourceManager: the provider against the bare Flink CLI, same run.

Each run submits one tiny bounded job (datagen -> blackhole) as a ``yarn-application`` to the local
MiniYARNCluster (``flinkbatch local yarn``), alternating two ways:

* baseline: the bare ``flink run -t yarn-application -d`` with exactly the argv the provider builds (so both
  deploy the same application); its end is seen by a script polling the RM every 0.1 s;
* provider: ``YarnTarget.submit`` (builds the argv, runs the CLI, reads the application id, settles the
  submission race by tag), then the deferrable trigger (``target.trigger``) with the operator's defaults.

Reported (median of the runs): seconds from the start of the submission until the CLI (baseline) or
``submit()`` (provider) returned, until the RM reported the application RUNNING, and from the Flink
job's end (its ``end-time`` in the HistoryServer archive) until the end was noticed (baseline: the 0.1 s RM
poll saw the application final; provider: the trigger's event). Figures go to ``$BENCH_OUT`` as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
CONN_ID = "flink_yarn_default"
SQL = """
CREATE TEMPORARY TABLE src (n BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '100');
CREATE TEMPORARY TABLE sink (n BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT n FROM src;
"""


def _request(name: str) -> Any:
    from airflow_provider_flinkbatch.identity import JobIdentity
    from airflow_provider_flinkbatch.sql.statements import split_statements
    from airflow_provider_flinkbatch.targets.base import JobRequest

    identity = JobIdentity(dag_id="bench", task_id=name, run_id=uuid.uuid4().hex, fingerprint="b" * 16)
    return JobRequest(statements=split_statements(SQL), flink_config={}, job_name=name, identity=identity)


class RmWatch(threading.Thread):
    """Polls the RM every 0.1 s for the application carrying a job tag; records when it was RUNNING / final."""

    def __init__(self, rm_url: str, job_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.tag = rm_url, f"flinkbatch-job-{job_id}"
        self.running: float | None = None
        self.final: float | None = None
        self.app: dict[str, Any] = {}
        self.stop = False

    def run(self) -> None:
        while not self.stop and self.final is None:
            try:
                found = requests.get(
                    f"{self.url}/ws/v1/cluster/apps", params={"applicationTags": self.tag}, timeout=5
                ).json()
            except (requests.RequestException, ValueError):
                found = {}
            for app in (found.get("apps") or {}).get("app") or []:
                self.app = app
                if app["state"] == "RUNNING" and self.running is None:
                    self.running = time.monotonic()
                if app["state"] in ("FINISHED", "FAILED", "KILLED"):
                    self.final = time.monotonic()
            time.sleep(0.1)


def _job_end(history_url: str, job_id: str, timeout: float = 90) -> float:
    """The job's ``end-time`` (epoch seconds) from the HistoryServer, once it picked up the archive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = requests.get(f"{history_url}/jobs/{job_id}", timeout=5)
        if answer.ok and answer.content.strip():
            return int(answer.json()["end-time"]) / 1000
        time.sleep(0.5)
    raise RuntimeError(f"the HistoryServer has no archive of {job_id} after {timeout}s")


def _monotonic_to_epoch(value: float) -> float:
    return time.time() - (time.monotonic() - value)


def bare(target: Any, rm_url: str, history_url: str, env: dict[str, str]) -> dict[str, float]:
    request = _request("bench-bare")
    argv = target.build_argv(request)
    watch = RmWatch(rm_url, request.job_id)
    started = time.monotonic()
    watch.start()
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=600)
    returned = time.monotonic()
    watch.join(600)
    assert watch.running is not None and watch.final is not None, watch.app
    end = _job_end(history_url, request.job_id)
    return {
        "returned_s": returned - started,
        "running_s": watch.running - started,
        "end_noticed_s": _monotonic_to_epoch(watch.final) - end,
    }


def provider(target: Any, rm_url: str, history_url: str) -> dict[str, float]:
    from airflow_provider_flinkbatch.targets.base import WaitOptions

    request = _request("bench-provider")
    watch = RmWatch(rm_url, request.job_id)
    started = time.monotonic()
    watch.start()
    handle = target.submit(request)
    returned = time.monotonic()

    async def first_event() -> dict[str, Any]:
        async for event in target.trigger(handle, WaitOptions()).run():
            return dict(event.payload)
        raise RuntimeError("the trigger ended without an event")

    event = asyncio.run(first_event())
    noticed = time.time()
    watch.stop = True
    assert event.get("status") == "terminal", event
    assert watch.running is not None, watch.app
    end = _job_end(history_url, request.job_id)
    return {"returned_s": returned - started, "running_s": watch.running - started, "end_noticed_s": noticed - end}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()

    from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
    from airflow_provider_flinkbatch.rest.client import RetryPolicy
    from airflow_provider_flinkbatch.yarn.options import YarnTargetOptions
    from airflow_provider_flinkbatch.yarn.target import YarnTarget

    cluster = LocalYarnCluster(Path(tempfile.mkdtemp(prefix="flinkbatch-bench-yarn-")))
    info = cluster.up(timeout=300)
    try:
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = info.connection_uri_json()
        target = YarnTarget.from_connection(CONN_ID, YarnTargetOptions(), RetryPolicy())
        env = target.settings.cli_environment()
        runs: dict[str, list[dict[str, float]]] = {"bare flink CLI (baseline)": [], "provider": []}
        for _ in range(options.runs):
            runs["bare flink CLI (baseline)"].append(bare(target, info.rm_url, info.history_url, env))
            runs["provider"].append(provider(target, info.rm_url, info.history_url))
    finally:
        cluster.down()
    rows = []
    for mode, figures in runs.items():
        rows.append(
            {
                "mode": mode,
                "runs": len(figures),
                **{key: statistics.median(f[key] for f in figures) for key in figures[0]},
            }
        )
    print(json.dumps(rows, indent=1))
    if os.environ.get("BENCH_OUT"):
        Path(os.environ["BENCH_OUT"]).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
