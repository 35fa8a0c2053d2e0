"""P2: many deferred Flink tasks in one triggerer: coalesced polling vs one poll per trigger, and the peers.

Each scenario runs in fresh processes: one serves C stand-in JobManagers (``tests/flink_replay.py``,
replaying real Flink 2.3 answers) whose N jobs end at seeded random times 2-20 s after the start; the
other runs N ``FlinkJobTrigger`` in one event loop, as the triggerer does, with the operator's default
intervals (0.5 s growing to 5 s). The start is set once the trigger process has imported everything, so
a slow start of the interpreter does not count as detection delay; the triggers' own start-up does.
Reported: REST requests (total and per cluster per second), CPU seconds and extra peak RSS of the trigger
process, and detection delay (event time - job end).

Peer baselines (:data:`MODES`): one status request per task at the peers' default intervals, the upstream
Flink provider's sensor (``BaseSensorOperator.poke_interval`` 60 s) and the Databricks provider's
deferrable operators (``polling_period_seconds`` 30 s), so the table shows what a user gets today.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
PEER_FLINK = "peer: 60 s sensor poke (apache-flink provider)"
PEER_DATABRICKS = "peer: 30 s trigger poll (databricks provider)"


def plan_jobs(triggers: int, clusters: int, start: float, seed: int = 7) -> list[tuple[int, str, float]]:
    """(cluster index, job id, end time) for every trigger: identical in both processes."""
    rng = random.Random(seed)
    return [(i % clusters, f"{i:032x}", start + rng.uniform(2.0, 20.0)) for i in range(triggers)]


def serve(triggers: int, clusters: int) -> None:
    """Server process: start the replays, print their URLs, read the start time, serve until stdin closes."""
    from flink_replay import FlinkReplay, ReplayJob, start_replay

    replays = [start_replay(FlinkReplay())[0] for _ in range(clusters)]
    print(json.dumps([replay.url for replay in replays]), flush=True)
    start = float(sys.stdin.readline())
    for cluster, job_id, end in plan_jobs(triggers, clusters, start):
        replays[cluster].add(ReplayJob(job_id, started=start, finish_at=end))
    sys.stdin.read()


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def wait(triggers: int, clusters: int, urls: list[str], mode: str) -> dict[str, Any]:
    """Trigger process: once imported, take the start time, run every trigger to its event, measure cost and delay."""
    for index, url in enumerate(urls):
        os.environ[f"AIRFLOW_CONN_BENCH_{index}"] = json.dumps({"conn_type": "flink_batch", "host": url})
    from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

    print("ready", flush=True)
    start = float(sys.stdin.readline())  # the jobs start then: the imports are not part of the timeline
    jobs = plan_jobs(triggers, clusters, start)
    options = MODES[mode]
    baseline_rss = _rss_kb()
    cpu_before = time.process_time()

    async def one(cluster: int, job_id: str, end: float) -> float:
        trigger = FlinkJobTrigger(job_id, f"bench_{cluster}", **options)
        async for event in trigger.run():
            assert event.payload["status"] == "terminal", event.payload
            return time.time() - end
        raise AssertionError("no event")

    async def everything() -> list[float]:
        return await asyncio.gather(*(one(*job) for job in jobs))

    began = time.time()
    delays = asyncio.run(everything())
    elapsed = time.time() - began
    return {
        "cpu_s": time.process_time() - cpu_before,
        "elapsed_s": elapsed,
        "extra_rss_mb": max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_rss) / 1024,
        "delay_median_s": statistics.median(delays),
        "delay_p95_s": sorted(delays)[int(len(delays) * 0.95) - 1],
    }


#: How each mode builds its triggers: ours (shared poller, operator defaults), one poll per trigger with the
#: same adaptive intervals, and the peers' way of waiting: one status request per task at a fixed interval.
MODES: dict[str, dict[str, Any]] = {
    "coalesced": {},
    "per-trigger": {"coalesce": False},
    PEER_FLINK: {"coalesce": False, "poll_interval": 60.0, "min_poll_interval": 60.0},
    PEER_DATABRICKS: {"coalesce": False, "poll_interval": 30.0, "min_poll_interval": 30.0},
}


def scenario(triggers: int, clusters: int, mode: str, timeout: float) -> dict[str, Any]:
    import requests

    server = subprocess.Popen(
        [sys.executable, __file__, "serve", str(triggers), str(clusters)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    row: dict[str, Any] = {"triggers": triggers, "clusters": clusters, "mode": mode}
    waiter = None
    try:
        assert server.stdin is not None and server.stdout is not None
        urls = json.loads(server.stdout.readline())
        waiter = subprocess.Popen(
            [sys.executable, __file__, "wait", str(triggers), str(clusters), json.dumps(urls), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert waiter.stdin is not None and waiter.stdout is not None
        if waiter.stdout.readline().strip() != "ready":
            return {**row, "error": f"failed: {(waiter.communicate()[1] or 'no output').strip()[-200:]}"}
        start = f"{time.time() + 1.0}\n"  # both processes plan the same jobs from it
        server.stdin.write(start)
        server.stdin.flush()
        try:
            out, err = waiter.communicate(start, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {**row, "error": f"not done in {timeout:.0f}s"}
        if waiter.returncode != 0:  # recorded, not fatal: the other scenarios still run
            last = (err or "").strip().splitlines()[-1:] or ["no output"]
            return {**row, "error": f"failed: {last[0][:200]}"}
        figures = json.loads(out.strip().splitlines()[-1])
        stats = [requests.get(f"{url}/_stats", timeout=10).json() for url in urls]
        total = sum(s["overview"] + s["details"] for s in stats)
        return {
            **row,
            "requests": total,
            "overview": sum(s["overview"] for s in stats),
            "req_per_cluster_s": total / clusters / max(figures["elapsed_s"], 1e-9),
            **figures,
        }
    finally:
        if waiter is not None and waiter.poll() is None:
            waiter.kill()
            waiter.wait()
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="bench")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--clusters", default="1,10")
    parser.add_argument("--peers", default="1000", help="sizes of the peer baselines (1 cluster), '' for none")
    parser.add_argument("--timeout", type=float, default=300.0)
    options = parser.parse_args()
    if options.command == "serve":
        serve(int(options.args[0]), int(options.args[1]))
        return
    if options.command == "wait":
        triggers, clusters, urls, mode = options.args
        print(json.dumps(wait(int(triggers), int(clusters), json.loads(urls), mode)))
        return
    rows = []
    for size in (int(s) for s in options.sizes.split(",")):
        for clusters in (int(c) for c in options.clusters.split(",")):
            for mode in ("coalesced", "per-trigger"):
                rows.append(scenario(size, clusters, mode, options.timeout))
                print(json.dumps(rows[-1]), flush=True)
    for size in (int(s) for s in options.peers.split(",") if s):  # one cluster: the interval decides, not the size
        for mode in (PEER_FLINK, PEER_DATABRICKS):
            rows.append(scenario(size, 1, mode, options.timeout))
            print(json.dumps(rows[-1]), flush=True)
    Path(os.environ.get("BENCH_OUT", "/dev/null")).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
