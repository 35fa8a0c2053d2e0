"""Drill: N short deferrable runs under the real scheduler, with and without the provider's defer grace.

Airflow 3.3 can fail a deferrable task whose job ends within seconds ("... finished with state success, but the
task instance's state attribute is queued", apache/airflow #67287, #71580, #72716). The provider's default mode
watches a short job from the worker for ``defer_grace`` seconds before deferring, and its trigger holds an early
event for ``event_hold`` seconds. This drill runs ``--runs`` DAG runs of a ~2 s deferrable job on real Airflow
processes (scheduler, triggerer, dag-processor, api-server, LocalExecutor) and a real local Flink cluster, once
with the defaults and once with both at 0 (what a deferrable operator without them does), and prints per mode:
runs, succeeded, false failures (task FAILED although its Flink job FINISHED), the scheduler's race messages.

    .venv/bin/python tests/drills/defer_race.py --runs 50 [--modes default,off]

Exit status 1 if the default mode had a false failure. Figures go to stdout (and ``--json`` to a file).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the shared harness modules

from deferred_airflow import ENDED, RACE_MESSAGE, DeferredDeployment  # noqa: E402

from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterInfo  # noqa: E402

DAG = "deferred_short"
MODES = {
    "default": {},  # the provider's defaults: defer_grace 10 s, event_hold 5 s
    "off": {"AIRFLOW__FLINKBATCH__DEFER_GRACE": "0", "AIRFLOW__FLINKBATCH__EVENT_HOLD": "0"},
}


def run_mode(
    flink: LocalClusterInfo, home: Path, mode: str, runs: int, timeout: float, in_flight: int
) -> dict[str, Any]:
    deployment = DeferredDeployment(home, flink.rest_url, flink.connection_uri_json(), MODES[mode])
    started = time.monotonic()
    deployment.start()
    try:
        run_ids = [f"{mode}-{index:03d}" for index in range(runs)]
        states: dict[str, str] = {}
        triggered: list[str] = []
        deadline = time.monotonic() + timeout
        while len(states) < runs and time.monotonic() < deadline:
            dead = {name: p.returncode for name, p in deployment.airflow.processes.items() if p.poll() is not None}
            if dead:
                raise RuntimeError(f"Airflow component(s) exited {dead}\n{deployment.airflow.log_tails()}")
            # a few runs at a time: SQLite (one writer) fails the scheduler when 50 runs start together
            while len(triggered) < runs and len(triggered) - len(states) < in_flight:
                deployment.trigger(DAG, run_ids[len(triggered)])
                triggered.append(run_ids[len(triggered)])
            for run_id in triggered:
                if run_id not in states and (state := deployment.ti(DAG, run_id)["state"]) in ENDED:
                    states[run_id] = state
            time.sleep(2)
        failed = [run_id for run_id, state in states.items() if state != "success"]
        jobs = {run_id: [job["state"] for job in deployment.flink_jobs(DAG, run_id)] for run_id in failed}
        false = [run_id for run_id in failed if jobs[run_id] == ["FINISHED"]]
        scheduler_log = deployment.component_log("scheduler")
        race_lines = [line for line in scheduler_log.splitlines() if RACE_MESSAGE in line]
        return {
            "mode": mode,
            "env": MODES[mode],
            "runs": runs,
            "ended": len(states),
            "succeeded": sum(state == "success" for state in states.values()),
            "failed": len(failed),
            "false_failures": len(false),
            "false_failure_runs": false,
            "race_messages": len(race_lines),
            "failed_runs_flink_jobs": jobs,
            "a_race_message": race_lines[0][:600] if race_lines else None,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        deployment.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--modes", default="default,off", help="comma-separated: default, off")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per mode for all runs to end")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--in-flight", type=int, default=6, help="DAG runs started but not ended at a time")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the deployment and the cluster on a kill too
    results = []
    (ROOT / ".flinkbatch").mkdir(exist_ok=True)  # per-worktree state: every process it starts is named by it
    with tempfile.TemporaryDirectory(prefix="defer-race-", dir=ROOT / ".flinkbatch") as scratch:
        cluster = LocalCluster(Path(scratch) / "flink", extra_config={"taskmanager.numberOfTaskSlots": "8"})
        flink = cluster.up(timeout=240)
        try:
            for mode in args.modes.split(","):
                result = run_mode(flink, Path(scratch) / mode, mode, args.runs, args.timeout, args.in_flight)
                results.append(result)
                print(json.dumps(result), flush=True)
        finally:
            cluster.down()
    print("\nmode     runs  ended  succeeded  false failures  scheduler race messages  seconds")
    for r in results:
        print(
            f"{r['mode']:<8} {r['runs']:>4}  {r['ended']:>5}  {r['succeeded']:>9}  {r['false_failures']:>14}  "
            f"{r['race_messages']:>23}  {r['seconds']:>7}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    default = next((r for r in results if r["mode"] == "default"), None)
    return 1 if default is not None and (default["false_failures"] or default["ended"] < default["runs"]) else 0


if __name__ == "__main__":
    sys.exit(main())
