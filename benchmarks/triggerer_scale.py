"""P2: many deferred Flink tasks in one triggerer: coalesced polling vs one poll per trigger.

Each scenario runs in fresh processes: one serves C stand-in JobManagers (``tests/flink_replay.py``,
replaying real Flink 2.3 answers) whose N jobs end at seeded random times 2-20 s after the start; the
other runs N ``FlinkJobTrigger`` in one event loop, as the triggerer does, with the operator's default
intervals (0.5 s growing to 5 s). Reported: REST requests (total and per cluster per second), CPU
seconds and extra peak RSS of the trigger process, and detection delay (event time - job end).
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


def plan_jobs(triggers: int, clusters: int, start: float, seed: int = 7) -> list[tuple[int, str, float]]:
    """(cluster index, job id, end time) for every trigger: identical in both processes."""
    rng = random.Random(seed)
    return [(i % clusters, f"{i:032x}", start + rng.uniform(2.0, 20.0)) for i in range(triggers)]


def serve(triggers: int, clusters: int, start: float) -> None:
    """Server process: start the replays, print their URLs, serve until stdin closes."""
    from flink_replay import FlinkReplay, ReplayJob, start_replay

    replays = [start_replay(FlinkReplay())[0] for _ in range(clusters)]
    for cluster, job_id, end in plan_jobs(triggers, clusters, start):
        replays[cluster].add(ReplayJob(job_id, started=start, finish_at=end))
    print(json.dumps([replay.url for replay in replays]), flush=True)
    sys.stdin.read()


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def wait(triggers: int, clusters: int, start: float, urls: list[str], coalesce: bool) -> dict[str, Any]:
    """Trigger process: run every trigger to its event, measure cost and delay."""
    for index, url in enumerate(urls):
        os.environ[f"AIRFLOW_CONN_BENCH_{index}"] = json.dumps({"conn_type": "flink_batch", "host": url})
    from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

    jobs = plan_jobs(triggers, clusters, start)
    baseline_rss = _rss_kb()
    cpu_before = time.process_time()

    async def one(cluster: int, job_id: str, end: float) -> float:
        trigger = FlinkJobTrigger(job_id, f"bench_{cluster}", coalesce=coalesce)
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


def scenario(triggers: int, clusters: int, coalesce: bool, timeout: float) -> dict[str, Any]:
    import requests

    start = time.time() + 5.0  # jobs "start" once both processes are up
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", str(triggers), str(clusters), str(start)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        urls = json.loads(server.stdout.readline())
        mode = "coalesced" if coalesce else "per-trigger"
        try:
            result = subprocess.run(
                [sys.executable, __file__, "wait", str(triggers), str(clusters), str(start), json.dumps(urls), mode],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
        except subprocess.TimeoutExpired:
            return {"triggers": triggers, "clusters": clusters, "mode": mode, "error": f"not done in {timeout:.0f}s"}
        except subprocess.CalledProcessError as err:  # recorded, not fatal: the other scenarios still run
            last = (err.stderr or "").strip().splitlines()[-1:] or ["no output"]
            return {"triggers": triggers, "clusters": clusters, "mode": mode, "error": f"failed: {last[0][:200]}"}
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        stats = [requests.get(f"{url}/_stats", timeout=10).json() for url in urls]
        total = sum(s["overview"] + s["details"] for s in stats)
        active = max(figures["elapsed_s"] - 0.0, 1e-9)
        return {
            "triggers": triggers,
            "clusters": clusters,
            "mode": mode,
            "requests": total,
            "overview": sum(s["overview"] for s in stats),
            "req_per_cluster_s": total / clusters / active,
            **figures,
        }
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="bench")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--clusters", default="1,10")
    parser.add_argument("--timeout", type=float, default=300.0)
    options = parser.parse_args()
    if options.command == "serve":
        serve(int(options.args[0]), int(options.args[1]), float(options.args[2]))
        return
    if options.command == "wait":
        triggers, clusters, start, urls, mode = options.args
        figures = wait(int(triggers), int(clusters), float(start), json.loads(urls), mode == "coalesced")
        print(json.dumps(figures))
        return
    rows = []
    for size in (int(s) for s in options.sizes.split(",")):
        for clusters in (int(c) for c in options.clusters.split(",")):
            for coalesce in (True, False):
                row = scenario(size, clusters, coalesce, options.timeout)
                print(json.dumps(row), flush=True)
                rows.append(row)
    Path(os.environ.get("BENCH_OUT", "/dev/null")).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
