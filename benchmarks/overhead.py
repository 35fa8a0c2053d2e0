"""P1 orchestration overhead and P4 failure-to-root-cause time, on the real local Flink cluster.

P1: task wall time (``dag.test`` of a one-task DAG) minus the Flink job's own duration, median of N,
blocking and deferrable. The provider's own share subtracts the wall time of a no-op Airflow task
(``bench_noop``, same run): what is left is ours. Its breakdown, from the task instance's start/end and
Flink's job times: submit path (task start until Flink's ``start-time``: connection, planning request,
Flink's own planning), completion (Flink's ``end-time`` until the task ended: the first poll that sees the
end, the summary, XComs, and for a deferred task the trigger and the resume). Baseline in the same run: a bare
script doing the same submission through the REST API and polling ``/jobs/<id>/status`` every 0.1 s (the least
any orchestrator can cost). Modes: blocking; deferrable (the tiny job ends within the defer grace, so the task
never defers: what a short job costs); deferred (``defer_grace=0``: the trigger waits, ``dag.test`` runs it
inline, then the task resumes; ``event_hold=0``, see below).
P4: seconds from the job's end (Flink's ``end-time``) until the task failed with the root cause in its log.
Baseline: one direct ``/jobs/<id>/exceptions`` call after the failure.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HOME = Path(tempfile.mkdtemp(prefix="flinkbatch-bench-"))
os.environ["AIRFLOW_HOME"] = str(HOME / "airflow")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# The deferred mode measures waiting in a trigger and resuming, not the hold that keeps a job ending within 5 s of
# its deferral from meeting Airflow 3.3's defer race (triggers.base; dag.test has no scheduler to race with).
os.environ["AIRFLOW__FLINKBATCH__EVENT_HOLD"] = "0"
sys.path.insert(0, str(ROOT / "tests"))  # counting_proxy: the request timeline of P1's traced runs
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": "bench",
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(ROOT / "benchmarks" / "dags")},
        }
    ]
)


def _dag(dag_id: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "benchmarks" / "dags"), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


def _xcom(dag_run: Any, key: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, key=key)).first()
        return None if row is None else XComModel.deserialize_value(row)


def _job_ms(rest_url: str, job_id: str) -> tuple[int, int]:
    import requests

    details = requests.get(f"{rest_url}/jobs/{job_id}", timeout=10).json()
    return int(details["duration"]), int(details["end-time"])


def _task_times(dag_run: Any) -> tuple[float, float]:
    """(start, end) epoch seconds of the run's one task instance, as Airflow recorded them."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = session.query(TaskInstance).filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id).one()
        assert ti.start_date is not None and ti.end_date is not None, "dag.test recorded no task times"
        return ti.start_date.timestamp(), ti.end_date.timestamp()


def _traced(dag: Any, runs: int) -> tuple[float, float]:
    """Medians of (first poll, end seen) over ``runs`` more runs whose JobManager requests pass a counting proxy
    (not the runs timed above: the proxy adds a hop). First poll: Flink's ``start-time`` until the first request
    that watches the job (``/jobs/<id>/status`` from the worker, ``/jobs/overview`` from the trigger, after the
    submission); end seen: Flink's ``end-time`` until the last such request, the one whose answer showed the end (it
    may have been sent a few milliseconds before that time)."""
    from counting_proxy import CountingProxy

    direct = os.environ["AIRFLOW_CONN_FLINK_BATCH_DEFAULT"]
    conn = json.loads(direct)
    proxy = CountingProxy(conn["host"]).start()
    os.environ["AIRFLOW_CONN_FLINK_BATCH_DEFAULT"] = json.dumps({**conn, "host": proxy.url})
    epoch = time.time() - time.monotonic()  # the proxy stamps requests with time.monotonic()
    first_polls, ends_seen = [], []
    try:
        dag.test()  # warm-up: the runner jar is uploaded again, to the proxy's address
        for _ in range(runs):
            del proxy.seen[:]
            run = dag.test()
            assert run.state == "success", run.state
            summary = _xcom(run, "return_value")
            seen = list(proxy.seen)
            submitted = next(at for at, method, path in seen if method == "POST" and path.endswith("/run"))
            watching = f"/jobs/{summary['job_id']}/status", "/jobs/overview"
            polls = [epoch + at for at, method, path in seen if at > submitted and path in watching]
            first_polls.append(polls[0] - summary["start_time"] / 1000)
            ends_seen.append(polls[-1] - summary["end_time"] / 1000)  # the last watching request saw the end
    finally:
        os.environ["AIRFLOW_CONN_FLINK_BATCH_DEFAULT"] = direct
        proxy.stop()
    return statistics.median(first_polls), statistics.median(ends_seen)


def p1(rest_url: str, runs: int) -> list[dict[str, Any]]:
    noop_dag = _dag("bench_noop")
    noop_dag.test()  # warm-up, not counted (first imports, the planner's first job): also for each mode below
    noop = []
    for _ in range(runs):
        run = noop_dag.test()
        assert run.state == "success", run.state
        start, end = _task_times(run)
        noop.append(end - start)
    floor = statistics.median(noop)
    rows: list[dict[str, Any]] = [{"mode": "no-op Airflow task (floor, subtracted)", "median_s": floor, "runs": runs}]
    for mode in ("blocking", "deferrable", "deferred"):
        dag = _dag(f"bench_tiny_{mode}")
        overheads, submits, completions, walls = [], [], [], []
        dag.test()
        for _ in range(runs):
            began = time.monotonic()
            run = dag.test()
            walls.append(time.monotonic() - began)
            assert run.state == "success", run.state
            summary = _xcom(run, "return_value")
            start, end = _task_times(run)
            overheads.append(end - start - summary["duration_ms"] / 1000)
            submits.append(summary["start_time"] / 1000 - start)
            completions.append(end - summary["end_time"] / 1000)
        first_poll, end_seen = _traced(dag, max(3, runs // 2))
        rows.append(
            {
                "mode": f"operator, {mode}",
                "median_s": statistics.median(overheads),
                "own_s": statistics.median(overheads) - floor,
                "submit_s": statistics.median(submits),
                "first_poll_s": first_poll,
                "end_seen_s": end_seen,
                "completion_s": statistics.median(completions),
                "dag_test_wall_s": statistics.median(walls),
                "runs": runs,
            }
        )

    from airflow_provider_flinkbatch.rest.client import FlinkRestClient
    from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
    from airflow_provider_flinkbatch.session.target import SessionTarget

    target = SessionTarget(FlinkRestClient(FlinkConnectionSettings(rest_url=rest_url)), "bench")
    bare = []
    for i in range(runs):
        began = time.monotonic()
        handle = target.submit(_request(f"bench.bare.{i}"))
        while target.job_status(handle) not in ("FINISHED", "FAILED"):  # the fresh bare state, not cached details
            time.sleep(0.1)
        wall = time.monotonic() - began
        bare.append(wall - _job_ms(rest_url, handle.job_id)[0] / 1000)
    bare_mode = "baseline: bare REST submit + 0.1 s /status polling"
    rows.append({"mode": bare_mode, "median_s": statistics.median(bare), "runs": runs})
    return rows


def _request(name: str) -> Any:
    """The tiny job as a bare request with a fresh identity."""
    import uuid

    from airflow_provider_flinkbatch.identity import JobIdentity
    from airflow_provider_flinkbatch.sql.statements import split_statements
    from airflow_provider_flinkbatch.targets.base import JobRequest

    sys.path.insert(0, str(ROOT / "benchmarks" / "dags"))
    from bench_dags import TINY

    identity = JobIdentity(dag_id="bench", task_id=name, run_id=uuid.uuid4().hex, fingerprint="f" * 16)
    return JobRequest(statements=split_statements(TINY), flink_config={}, job_name=name, identity=identity)


def p4(rest_url: str, runs: int) -> list[dict[str, Any]]:
    import requests

    dag = _dag("bench_failure")
    delays, direct = [], []
    for _ in range(runs):
        run = dag.test()
        finished = time.time()
        assert run.state == "failed", run.state
        info = _xcom(run, "flink_diagnosis")
        assert info.get("exception_class"), info
        _, end_ms = _job_ms(rest_url, info["job_id"])
        delays.append(finished - end_ms / 1000)
        began = time.monotonic()
        requests.get(f"{rest_url}/jobs/{info['job_id']}/exceptions", timeout=10).json()
        direct.append(time.monotonic() - began)
    return [
        {
            "mode": "operator: job end -> task failed with root cause",
            "median_s": statistics.median(delays),
            "runs": runs,
        },
        {"mode": "baseline: one /jobs/<id>/exceptions call", "median_s": statistics.median(direct), "runs": runs},
    ]


def main(runs: int = 5) -> dict[str, Any]:
    from airflow.utils.db import initdb

    from airflow_provider_flinkbatch.local import LocalCluster

    initdb()
    cluster = LocalCluster(HOME / "cluster")
    info = cluster.up(timeout=180)
    os.environ["AIRFLOW_CONN_FLINK_BATCH_DEFAULT"] = info.connection_uri_json()
    try:
        return {"p1": p1(info.rest_url, runs), "p4": p4(info.rest_url, max(3, runs // 2))}
    finally:
        cluster.down()


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    Path(os.environ.get("BENCH_OUT", "/dev/stdout")).write_text(json.dumps(figures, indent=1))
