"""Run every benchmark and write ``benchmarks/RESULTS.md`` (figures, baselines from the same run, ratios).

``bash scripts/bench.sh`` (or ``python benchmarks/run.py [--quick]``). Targets from the performance
issue are printed beside the figures; nothing here is asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _run(script: str, *args: str, timeout: float = 3600) -> Any:
    """Each benchmark in its own interpreter (clean imports, clean RSS); figures come back as JSON."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, str(HERE / script), *args],
            env={**os.environ, "BENCH_OUT": out.name},
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(Path(out.name).read_text())


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def p2_section(rows: list[dict[str, Any]]) -> str:
    body = []
    by_key = {(r["triggers"], r["clusters"], r["mode"]): r for r in rows}
    for (triggers, clusters, mode), row in by_key.items():
        if "error" in row:
            body.append([str(triggers), str(clusters), mode, row["error"], "", "", "", "", ""])
            continue
        base = by_key.get((triggers, clusters, "per-trigger"), {})
        ours = by_key.get((triggers, clusters, "coalesced"), {})
        versus = ""
        if mode == "coalesced" and "cpu_s" in base:
            rss = base["extra_rss_mb"] / max(row["extra_rss_mb"], 1)
            versus = (
                f"CPU {base['cpu_s'] / row['cpu_s']:.0f}x less, RSS {rss:.0f}x less, "
                f"delay {base['delay_median_s'] / row['delay_median_s']:.1f}x shorter"
            )
        elif mode.startswith("peer") and "delay_median_s" in ours:
            versus = (
                f"ours: delay {row['delay_median_s'] / max(ours['delay_median_s'], 1e-9):.0f}x shorter, "
                f"requests {row['requests'] / max(ours['requests'], 1):.1f}x fewer"
            )
        details = row["requests"] - row["overview"]
        body.append(
            [
                str(triggers),
                str(clusters),
                mode,
                f"{row['requests']:,} ({row['overview']:,} overview, {details:,} /jobs/<id>)",
                f"{row['req_per_cluster_s']:.1f}",
                versus,
                f"{row['cpu_s']:.1f} s ({100 * row['cpu_s'] / row['elapsed_s']:.0f}% of a core)",
                f"{row['extra_rss_mb']:.0f} MB",
                f"{row['delay_median_s']:.2f} / {row['delay_p95_s']:.2f} s",
            ]
        )
    header = [
        "triggers",
        "clusters",
        "mode",
        "REST requests",
        "req/s per cluster",
        "coalesced vs per-trigger (peer rows: ours vs the peer)",
        "CPU (trigger process, incl. start-up)",
        "extra peak RSS",
        "detection delay median / p95",
    ]
    return _table(header, body)


CONTROL_PLANES_BEGIN = "<!-- control-planes -->"
CONTROL_PLANES_END = "<!-- /control-planes -->"


def control_planes_section(rows: list[dict[str, Any]], stamp: str) -> str:
    """P2 on the real ResourceManager and kube-apiserver (``control_planes.py``): coalesced vs per-resource."""
    body = []
    by_key = {(r["kind"], r["mode"]): r for r in rows}
    for (kind, mode), row in by_key.items():
        if "error" in row:
            body.append([kind, "", mode, row["error"], "", "", "", "", "", ""])
            continue
        base = by_key.get((kind, "per-resource"), {})
        versus = ""
        if mode == "coalesced" and "cpu_s" in base:
            versus = (
                f"requests {base['requests_per_s'] / max(row['requests_per_s'], 1e-9):.0f}x fewer, "
                f"CPU {base['cpu_s'] / max(row['cpu_s'], 1e-9):.1f}x less, "
                f"RSS {base['extra_rss_mb'] / max(row['extra_rss_mb'], 1):.0f}x less, "
                f"delay {base['delay_median_s'] / max(row['delay_median_s'], 1e-9):.1f}x"
            )
        total = sum(row["requests"].values())
        body.append(
            [
                kind,
                str(row["items"]),
                mode,
                f"{row['requests_per_cycle']:.1f}",
                f"{row['requests_per_s']:.1f}",
                f"{total:,} ({', '.join(f'{k} {v:,}' for k, v in row['requests'].items())})",
                f"{row['cpu_s']:.1f} s ({100 * row['cpu_s'] / row['elapsed_s']:.0f}% of a core)",
                f"{row['extra_rss_mb']:.0f} MB",
                f"{row['delay_median_s']:.2f} / {row['delay_p95_s']:.2f} s",
                versus,
            ]
        )
    header = [
        "control plane",
        "deferred tasks",
        "mode",
        "requests per cycle while waiting",
        "requests/s while waiting",
        "requests in total",
        "CPU (trigger process, incl. start-up)",
        "extra peak RSS",
        "detection delay median / p95",
        "coalesced vs per-resource",
    ]
    return "\n".join(
        [
            CONTROL_PLANES_BEGIN,
            "## P2 on the real control planes: YARN and Kubernetes triggers (target: 1 request per cluster, or per "
            "namespace and kind, per cycle)",
            f"{stamp} `benchmarks/control_planes.py`: a real ResourceManager (MiniYARNCluster) with this provider's "
            "tagged applications (unmanaged-AM submissions through RM REST: tracked by the RM like any application, "
            "waiting in ACCEPTED without a container each; ended by a kill) counted by a proxy in front of the RM; a "
            "real kube-apiserver with labelled FlinkDeployments whose `.status` the run writes as the operator does "
            "(RUNNING, then FINISHED), counted by the API server itself (`apiserver_request_total`; v1.20 files a GET "
            "of one custom resource under LIST, so its figure is LISTs + GETs). Operator default intervals (YARN 0.5 s "
            "growing to 5 s with the application's age, Kubernetes 5 s); every item ends 30-50 s after all triggers "
            "polled. Per cycle: coalesced = requests per shared listing; per-resource = one request per trigger per "
            "cycle by construction. Items ended or deleted cost one own GET each in coalesced mode (the listing holds "
            "only waiting applications; a FINISHED resource stays in the LIST, so none there).",
            "",
            _table(header, body),
            CONTROL_PLANES_END,
        ]
    )


YARN_SUBMIT_BEGIN = "<!-- yarn-submit -->"
YARN_SUBMIT_END = "<!-- /yarn-submit -->"


def yarn_submit_section(rows: list[dict[str, Any]], stamp: str) -> str:
    """Submit to RUNNING and end detection on the real RM (``yarn_submit.py``): provider vs the bare CLI."""
    base = next(r for r in rows if r["mode"].startswith("bare"))
    body = [
        [
            row["mode"],
            str(row["runs"]),
            f"{row['returned_s']:.1f} s ({row['returned_s'] - base['returned_s']:+.1f} s)",
            f"{row['running_s']:.1f} s ({row['running_s'] - base['running_s']:+.1f} s)",
            f"{row['end_noticed_s']:.1f} s ({row['end_noticed_s'] - base['end_noticed_s']:+.1f} s)",
        ]
        for row in rows
    ]
    header = ["submission", "runs", "until it returned", "until the RM said RUNNING", "job end until noticed"]
    return "\n".join(
        [
            YARN_SUBMIT_BEGIN,
            "## YARN submit and end detection on the real ResourceManager (provider vs the bare Flink CLI)",
            f"{stamp} `benchmarks/yarn_submit.py`: one tiny bounded job per run as a `yarn-application` on the "
            "local MiniYARNCluster, alternating the bare `flink run -t yarn-application -d` (the same argv the "
            "provider builds; its end seen by a 0.1 s RM poll) and `YarnTarget.submit` + the deferrable trigger "
            "with the operator's defaults. Medians; in brackets the difference to the bare CLI. The job's end is "
            "its `end-time` in the HistoryServer archive. The bare poll can only see YARN's final state, which "
            "follows the JobManager's shutdown; the trigger reads Flink's job state through the RM web proxy.",
            "",
            _table(header, body),
            YARN_SUBMIT_END,
        ]
    )


def splice_section(section: str, begin: str = CONTROL_PLANES_BEGIN, end: str = CONTROL_PLANES_END) -> None:
    """Replace (or append) one marked section of RESULTS.md, keeping the other sections' run."""
    path = HERE / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def _stamp(command: str) -> str:
    now = datetime.datetime.now(datetime.UTC)
    return (
        f"Run {now:%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; command: `{command}`."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs (a few minutes)")
    parser.add_argument(
        "--control-planes",
        choices=["yes", "no", "only"],
        default=None,
        help="P2 on the real ResourceManager and kube-apiserver (~10 min): default yes for a full run, no with "
        "--quick; 'only' runs just that and replaces its section of RESULTS.md",
    )
    options = parser.parse_args()
    control_planes = options.control_planes or ("no" if options.quick else "yes")
    if control_planes == "only":
        print("P2 on the real control planes ...", flush=True)
        rows = _run("control_planes.py", timeout=3600)
        stamp = _stamp("python benchmarks/run.py --control-planes only")
        section = control_planes_section(rows, stamp)
        print("YARN submit on the real ResourceManager ...", flush=True)
        submits = _run("yarn_submit.py", timeout=3600)
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "control_planes.json").write_text(json.dumps(rows, indent=1))
        (HERE / "results" / "yarn_submit.json").write_text(json.dumps(submits, indent=1))
        splice_section(section)
        splice_section(yarn_submit_section(submits, stamp), YARN_SUBMIT_BEGIN, YARN_SUBMIT_END)
        print(section)
        return
    sizes = "100,1000" if options.quick else "1000,5000"
    runs = "3" if options.quick else "10"

    print("P3 import time ...", flush=True)
    imports = _run("import_time.py", runs)
    print("P1/P4 overhead on the local Flink cluster ...", flush=True)
    overhead = _run("overhead.py", runs)
    print("P2 triggerer scale ...", flush=True)
    scale = _run(
        "triggerer_scale.py",
        "--sizes",
        sizes,
        "--clusters",
        "1,10",
        "--peers",
        "100" if options.quick else "1000",
        "--timeout",
        "120" if options.quick else "150",
    )
    planes = submits = None
    if control_planes == "yes":
        print("P2 on the real control planes ...", flush=True)
        planes = _run("control_planes.py", timeout=3600)
        print("YARN submit on the real ResourceManager ...", flush=True)
        submits = _run("yarn_submit.py", timeout=3600)
    spec_parse = None
    if (HERE / "spec_parse.py").exists():
        print("P3 spec parsing ...", flush=True)
        spec_parse = subprocess.run(
            [sys.executable, str(HERE / "spec_parse.py")], capture_output=True, text=True, check=True
        ).stdout.strip()

    sdk = next(r for r in imports["p3_import"] if r["import"].startswith("baseline"))["median_s"]
    p1_base = next(r for r in overhead["p1"] if r["mode"].startswith("baseline"))["median_s"]
    p4_base = next(r for r in overhead["p4"] if r["mode"].startswith("baseline"))["median_s"]
    cpu = os.cpu_count()
    report = [
        "# Benchmark results",
        "",
        f"Run {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {cpu} cores, "
        f"Python {platform.python_version()}; command: `bash scripts/bench.sh{' --quick' if options.quick else ''}`. "
        "Baselines are measured in the same run. Figures vary with machine load.",
        "",
        "## P1 orchestration overhead (target: <= 1 s median; the provider's own share <= 0.3 s)",
        "Task wall time (the task instance's start to end) minus the Flink job's own duration for a tiny SQL job on "
        "the local cluster; own share = that minus a no-op Airflow task's wall time (same run). Breakdown: submit "
        "path = task start until Flink's `start-time` (connection, submission, Flink's planning); first poll = Flink's "
        "`start-time` until the first request that watches the job (worker: `/jobs/<id>/status`; trigger: "
        "`/jobs/overview`); end seen = Flink's `end-time` until the last such request, whose answer showed the end "
        "(both from half as many extra runs through a counting proxy, which adds a hop, so not from the timed "
        "runs); completion = "
        "Flink's `end-time` until the task ended (the poll that sees the end, summary, XComs; deferred: the "
        "trigger and the resume). Deferrable = the operator's defaults: the tiny job ends within the 10 s defer "
        "grace, so the task finishes in the worker; deferred = `defer_grace=0`: the trigger (run inline by "
        "`dag.test`, first poll at once, then every 0.5 s) waits and the task resumes, without the 5 s "
        "`event_hold` that keeps jobs ending right after a deferral clear of Airflow 3.3's defer race. Baseline: "
        "the same submission through the REST API, then `/jobs/<id>/status` every 0.1 s (Flink's planning and "
        "one round trip: the least any orchestrator can cost). `dag.test` wall adds Airflow's DAG-run bookkeeping.",
        "",
        _table(
            [
                "mode",
                "median overhead",
                "own share (minus no-op)",
                "submit path",
                "first poll",
                "end seen",
                "completion",
                "dag.test wall",
                "vs baseline",
                "runs",
            ],
            [
                [
                    r["mode"],
                    f"{r['median_s']:.2f} s",
                    f"{r['own_s']:.2f} s" if "own_s" in r else "",
                    f"{r['submit_s']:.2f} s" if "submit_s" in r else "",
                    f"{r['first_poll_s']:.2f} s" if "first_poll_s" in r else "",
                    f"{r['end_seen_s']:.2f} s" if "end_seen_s" in r else "",
                    f"{r['completion_s']:.2f} s" if "completion_s" in r else "",
                    f"{r['dag_test_wall_s']:.2f} s" if "dag_test_wall_s" in r else "",
                    f"{r['median_s'] / p1_base:.1f}x",
                    str(r["runs"]),
                ]
                for r in overhead["p1"]
            ],
        ),
        "",
        "## P2 triggerer scale (target: 1 request per cluster per cycle while waiting, <= 10% of a core and "
        "<= 50 MB extra RSS at 1,000 triggers, <= 200 MB at 5,000, detection delay median < 1 s)",
        "Jobs end 2-20 s after the start (set once the trigger process has imported); triggers use the operator "
        "defaults (0.5 s polls growing to 5 s). Coalesced = one `/jobs/overview` per cluster per cycle and nothing "
        "else: the poller wakes a trigger only when its job is no longer listed as running, and the trigger fires "
        "with the overview's state (the resumed task reads the job's details, in the worker). Per-trigger = one "
        "`/jobs/<id>` per trigger per interval, each with its own HTTP client (they share one TLS context per "
        "process, `rest/tls.py`); where it cannot keep up it polls less often than asked (few requests) and "
        "notices ends late (detection delay), so compare CPU, memory and delay there. Peer rows: one "
        "status request per task at the peers' default intervals (upstream apache-flink provider's sensor: "
        "`poke_interval` 60 s; Databricks provider's deferrable operators: `polling_period_seconds` 30 s), run "
        "here as triggers of one event loop; a poke-mode sensor holds a worker slot per task instead, so only their "
        "requests and delay compare. The stand-in JobManagers share the 2 cores with the trigger process.",
        "",
        p2_section(scale),
        "",
        *([control_planes_section(planes, "Same run;"), ""] if planes is not None else []),
        *([yarn_submit_section(submits, "Same run;"), ""] if submits is not None else []),
        "## P3 import and parse time (target: <= 0.3 s import over Airflow's own, <= 1.5 s for 500 specs)",
        "",
        _table(
            ["import", "median", "over airflow.sdk alone"],
            [[r["import"], f"{r['median_s']:.2f} s", f"{r['median_s'] - sdk:+.2f} s"] for r in imports["p3_import"]],
        ),
        "",
        f"Heavy clients (kubernetes, httpx, requests, fastavro, jsonschema) loaded by a DAG import beyond what "
        f"airflow.sdk loads: {', '.join(imports['heavy_modules_added_at_parse']) or 'none'}.",
        "",
        *(["Spec parsing (`benchmarks/spec_parse.py`):", "", "```", spec_parse, "```", ""] if spec_parse else []),
        "## P4 failure to root cause (target: <= 2 s)",
        "",
        _table(
            ["what", "median", "vs baseline", "runs"],
            [
                [r["mode"], f"{r['median_s']:.2f} s", f"{r['median_s'] / p4_base:.0f}x", str(r["runs"])]
                for r in overhead["p4"]
            ],
        ),
        "",
    ]
    text = "\n".join(report)
    raw = {
        "imports": imports,
        "overhead": overhead,
        "scale": scale,
        "control_planes": planes,
        "yarn_submit": submits,
        "spec_parse": spec_parse,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "raw.json").write_text(json.dumps(raw, indent=1))
    (HERE / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
