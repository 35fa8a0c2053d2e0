"""P2 on the real control planes: many deferred YARN / Kubernetes tasks in one triggerer, shared vs own polling.

* YARN: a REAL ResourceManager (MiniYARNCluster, ``flinkbatch local yarn``) holding N applications of
  this provider (tag ``flinkbatch``) submitted through the RM REST API as unmanaged-AM applications: they
  wait in ACCEPTED like any application the RM tracks, without a container each (the machine could not
  run 200 JobManagers). They end by a kill (``PUT .../state``) at seeded times. Requests are counted by a
  counting proxy in front of the RM (the RM has no per-endpoint request counter).
* Kubernetes: a REAL kube-apiserver + etcd (the tests' build) holding N FlinkDeployments with the
  provider's label; their ``.status`` is the operator's frames (RUNNING, then FINISHED at seeded times),
  written through the status subresource. Requests are the API server's own count
  (``apiserver_request_total`` of ``/metrics`` on flinkdeployments; v1.20 files a GET of one custom
  resource under verb LIST too, so the figure is LISTs + GETs).

Each mode runs N triggers in a fresh process (one event loop, as the triggerer), with the operator's
default wait options (YARN: 0.5 s growing with the application's age to 5 s; Kubernetes: 5 s); the
other process ends the items 30-50 s after every trigger polls, and counts. Reported: requests per
second and per cycle while every trigger waits (coalesced: per shared listing; per-resource: one per
trigger per cycle by construction), requests in total, CPU seconds and extra peak RSS of the trigger
process (client modules preloaded, so it is the triggers' own), and detection delay (event time minus
the moment the end was written, both measured in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
CYCLE = 5.0  # the operator's default poll_interval: the longest wait between two polls of one task
NS = "flink-bench"


def _rss_kb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


# ---- trigger process ---------------------------------------------------------------------------------------


def wait(kind: str, items: list[str], coalesce: bool, out: str) -> None:
    """Run one trigger per item in one event loop; write ``<out>.ready`` once all poll, event times to ``out``."""
    if kind == "yarn":
        from airflow_provider_flinkbatch.triggers.yarn import YarnApplicationTrigger

        def make(item: str, i: int) -> Any:
            return YarnApplicationTrigger(item, f"{i:032x}", "bench_yarn", coalesce=coalesce)
    else:
        from airflow_provider_flinkbatch.triggers.kubernetes import FlinkKubernetesTrigger

        def make(item: str, i: int) -> Any:
            return FlinkKubernetesTrigger(
                f"{i:032x}", f"{NS}/{item}", "flinkdeployments", "bench_k8s", coalesce=coalesce
            )

    # the clients' modules load lazily on the first poll: load them first, so extra RSS is the triggers' own
    if kind == "yarn":
        import httpx  # noqa: F401
    else:
        import airflow.providers.cncf.kubernetes.hooks.kubernetes  # noqa: F401
        import kubernetes_asyncio.client  # noqa: F401
    baseline_rss = _rss_kb()
    cpu_before = time.process_time()
    events: dict[str, dict[str, Any]] = {}

    async def one(item: str, i: int) -> None:
        async for event in make(item, i).run():
            events[item] = {"at": time.time(), "status": event.payload["status"], "state": event.payload.get("state")}
            return

    async def everything() -> None:
        tasks = [asyncio.create_task(one(item, i)) for i, item in enumerate(items)]
        await asyncio.sleep(3.0)  # every trigger made its first poll
        Path(out + ".ready").write_text(str(time.time()))
        await asyncio.gather(*tasks)

    began = time.time()
    asyncio.run(everything())
    Path(out).write_text(
        json.dumps(
            {
                "events": events,
                "cpu_s": time.process_time() - cpu_before,
                "elapsed_s": time.time() - began,
                "extra_rss_mb": max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline_rss) / 1024,
            }
        )
    )


# ---- harness -----------------------------------------------------------------------------------------------


def plan(count: int, seed: int = 11) -> list[float]:
    """Seconds after ``ready`` at which each item ends (the same plan for both modes)."""
    rng = random.Random(seed)
    return [rng.uniform(30.0, 50.0) for _ in range(count)]


def run_mode(
    kind: str,
    items: list[str],
    coalesce: bool,
    env: dict[str, str],
    end: Callable[[str], None],
    counts: Callable[[], dict[str, int]],
    timeout: float,
) -> dict[str, Any]:
    """One trigger process; end the items on plan; requests per cycle from the counts before the first end."""
    mode = "coalesced" if coalesce else "per-resource"
    offsets = plan(len(items))
    with tempfile.TemporaryDirectory() as scratch:
        out, log = f"{scratch}/events.json", Path(scratch) / "trigger.log"
        items_file = Path(scratch) / "items.json"
        items_file.write_text(json.dumps(items))
        with log.open("w") as log_file:  # the triggers' logs: read only when the process fails
            process = subprocess.Popen(
                [sys.executable, __file__, "wait", kind, "coalesced" if coalesce else "own", out, str(items_file)],
                env={**os.environ, **env},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        started = time.time()
        while not Path(out + ".ready").exists():
            if process.poll() is not None or time.time() - started > timeout:
                process.kill()
                tail = log.read_text()[-500:]
                return {"kind": kind, "mode": mode, "error": f"trigger process did not start: {tail}"}
            time.sleep(0.1)
        ready = time.time()
        before = counts()
        first = min(offsets)
        ended: dict[str, float] = {}
        window: dict[str, int] = {}

        def ender() -> None:
            time.sleep(max(0.0, ready + first - 0.05 - time.time()))
            window.update(counts())
            for offset, item in sorted(zip(offsets, items, strict=True)):
                time.sleep(max(0.0, ready + offset - time.time()))
                end(item)
                ended[item] = time.time()

        thread = threading.Thread(target=ender, daemon=True)
        thread.start()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return {"kind": kind, "mode": mode, "error": f"not done in {timeout:.0f}s"}
        thread.join(timeout=60)
        after = counts()
        if process.returncode != 0:
            return {"kind": kind, "mode": mode, "error": f"trigger process exited {process.returncode}"}
        result = json.loads(Path(out).read_text())
    events = result.pop("events")
    bad = [e for e in events.values() if e["status"] != "terminal"]
    delays = sorted(events[item]["at"] - ended[item] for item in items if item in events and item in ended)
    waiting_s = first - 0.05  # from "ready" to just before the first end: every trigger waits
    in_window = {key: window[key] - before[key] for key in before}
    total = {key: after[key] - before[key] for key in before}
    waiting = sum(in_window.values())
    if not coalesce:
        cycles = waiting / len(items)  # each trigger sends one request per cycle of its own
    elif "list" in in_window:
        cycles = in_window["list"]  # the shared listings the proxy saw
    else:
        cycles = waiting_s / CYCLE  # the Kubernetes poller's fixed interval (poll_interval)
    return {
        "kind": kind,
        "mode": mode,
        "items": len(items),
        "events": len(events),
        "not_terminal": len(bad),
        "waiting_s": waiting_s,
        "waiting_requests": waiting,
        "requests_per_s": waiting / waiting_s,
        "requests_per_cycle": waiting / max(cycles, 1e-9),
        "window": in_window,
        "requests": total,
        "startup_s": ready - started,
        "delay_median_s": statistics.median(delays),
        "delay_p95_s": delays[int(len(delays) * 0.95) - 1],
        **result,
    }


def bench_yarn(count: int, timeout: float) -> list[dict[str, Any]]:
    from counting_proxy import CountingProxy
    from real_yarn import kill, submit_unmanaged

    from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
    from airflow_provider_flinkbatch.yarn.calls import APPS
    from airflow_provider_flinkbatch.yarn.tags import PROVIDER_TAG

    state = Path(tempfile.mkdtemp(prefix="bench-yarn-"))
    cluster = LocalYarnCluster(state)
    info = cluster.up(timeout=300)
    proxy = CountingProxy(info.rm_url).start()
    rows = []
    try:
        conn = json.dumps({"conn_type": "flink_yarn", "host": proxy.url, "login": info.user})
        for coalesce in (True, False):
            apps = [submit_unmanaged(info.rm_url, info.user, f"bench-{i}", [PROVIDER_TAG]) for i in range(count)]

            def counts() -> dict[str, int]:
                return {"list": proxy.count("GET", APPS), "get": proxy.count("GET", f"{APPS}/")}

            rows.append(
                run_mode(
                    "yarn",
                    apps,
                    coalesce,
                    {"AIRFLOW_CONN_BENCH_YARN": conn},
                    lambda app: kill(info.rm_url, info.user, app),
                    counts,
                    timeout,
                )
            )
            print(json.dumps(rows[-1]), flush=True)
    finally:
        proxy.stop()
        cluster.down()
        shutil.rmtree(state, ignore_errors=True)
    return rows


_METRIC = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")


def apiserver_counts(url: str) -> dict[str, int]:
    """LIST and GET requests on flinkdeployments as the API server itself counts them (``/metrics``)."""
    import requests
    import urllib3
    from k8s.apiserver import TOKEN

    urllib3.disable_warnings()
    text = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, verify=False, timeout=30).text
    counts = {"list+get": 0}
    for line in text.splitlines():
        match = _METRIC.match(line)
        if match and 'resource="flinkdeployments"' in match["labels"] and 'subresource=""' in match["labels"]:
            verb = re.search(r'verb="(\w+)"', match["labels"])
            if verb and verb[1] in ("LIST", "GET"):  # v1.20 counts a GET of one custom resource as LIST
                counts["list+get"] += int(float(match["value"]))
    return counts


def bench_kubernetes(count: int, timeout: float) -> list[dict[str, Any]]:
    from concurrent.futures import ThreadPoolExecutor

    from k8s.apiserver import build, start
    from k8s.frames import frame
    from kubernetes import client

    from airflow_provider_flinkbatch.kubernetes.manifests import MANAGED_BY, MANAGED_BY_LABEL

    work = Path(tempfile.mkdtemp(prefix="bench-kube-"))
    server = start(build(), work)
    rows = []
    try:
        api_client = server.api_client()
        client.CoreV1Api(api_client).create_namespace({"metadata": {"name": NS}})
        objects = client.CustomObjectsApi(api_client)
        group = ("flink.apache.org", "v1beta1", NS, "flinkdeployments")

        def status(name: str, state: str) -> None:
            body = {"status": frame("STABLE", "READY", state)}
            objects.patch_namespaced_custom_object_status(*group, name, body)

        def create(name: str) -> None:
            spec: dict[str, Any] = {"image": "flink:2.3", "flinkVersion": "v2_3", "serviceAccount": "flink"}
            spec["job"] = {"jarURI": "local:///opt/flink/usrlib/runner.jar", "upgradeMode": "stateless"}
            metadata = {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}
            body = {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "metadata": metadata}
            objects.create_namespaced_custom_object(*group, {**body, "spec": spec})
            status(name, "RUNNING")

        conn = json.dumps({"conn_type": "kubernetes", "extra": {"kube_config_path": str(server.kubeconfig)}})
        for coalesce in (True, False):
            names = [f"bench-{'c' if coalesce else 'p'}-{i}" for i in range(count)]
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(create, names))
            rows.append(
                run_mode(
                    "kubernetes",
                    names,
                    coalesce,
                    {"AIRFLOW_CONN_BENCH_K8S": conn},
                    lambda name: status(name, "FINISHED"),
                    lambda: apiserver_counts(server.url),
                    timeout,
                )
            )
            print(json.dumps(rows[-1]), flush=True)
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda name: objects.delete_namespaced_custom_object(*group, name), names))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", nargs="?", default="bench")
    parser.add_argument("args", nargs="*")
    parser.add_argument("--yarn-apps", type=int, default=200)
    parser.add_argument("--k8s-resources", type=int, default=500)
    parser.add_argument("--only", choices=["yarn", "kubernetes"])
    parser.add_argument("--timeout", type=float, default=300.0)
    options = parser.parse_args()
    if options.command == "wait":
        kind, mode, out, items = options.args
        wait(kind, json.loads(Path(items).read_text()), mode == "coalesced", out)
        return
    rows: list[dict[str, Any]] = []
    sections = [("yarn", bench_yarn, options.yarn_apps), ("kubernetes", bench_kubernetes, options.k8s_resources)]
    for kind, bench, count in sections:
        if options.only in (None, kind):
            try:
                rows += bench(count, options.timeout)
            except Exception as err:  # recorded, not fatal: the other control plane still runs
                rows.append({"kind": kind, "mode": "both", "error": f"{type(err).__name__}: {str(err)[:300]}"})
            Path(os.environ.get("BENCH_OUT", "/dev/null")).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
