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
        versus = ""
        if mode == "coalesced" and "cpu_s" in base:
            rss = base["extra_rss_mb"] / max(row["extra_rss_mb"], 1)
            versus = (
                f"CPU {base['cpu_s'] / row['cpu_s']:.0f}x less, RSS {rss:.0f}x less, "
                f"delay {base['delay_median_s'] / row['delay_median_s']:.1f}x shorter"
            )
        waiting = row["requests"] - triggers  # every job costs one final /jobs/<id> in both modes
        body.append(
            [
                str(triggers),
                str(clusters),
                mode,
                f"{row['requests']:,} ({max(waiting, 0):,} while waiting, {row['overview']:,} overview)",
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
        "coalesced vs per-trigger",
        "CPU (trigger process, incl. start-up)",
        "extra peak RSS",
        "detection delay median / p95",
    ]
    return _table(header, body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer runs (a few minutes)")
    options = parser.parse_args()
    sizes = "100,1000" if options.quick else "100,1000,5000"
    runs = "3" if options.quick else "7"

    print("P3 import time ...", flush=True)
    imports = _run("import_time.py", runs)
    print("P1/P4 overhead on the local Flink cluster ...", flush=True)
    overhead = _run("overhead.py", runs)
    print("P2 triggerer scale ...", flush=True)
    scale = _run("triggerer_scale.py", "--sizes", sizes, "--clusters", "1,10")
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
        "## P1 orchestration overhead (target: <= 1 s median)",
        "Task wall time minus the Flink job's own duration for a tiny SQL job on the local cluster.",
        "",
        _table(
            ["mode", "median overhead", "vs baseline", "runs"],
            [
                [r["mode"], f"{r['median_s']:.2f} s", f"{r['median_s'] / p1_base:.1f}x", str(r["runs"])]
                for r in overhead["p1"]
            ],
        ),
        "",
        "## P2 triggerer scale (target: <= 1 request per cluster per cycle at 1,000 triggers, "
        "<= 10% of a core, <= 50 MB extra RSS)",
        "Jobs end 2-20 s after the start; triggers use the operator defaults (0.5 s polls growing to 5 s). "
        "Coalesced = one `/jobs/overview` per cluster per cycle + one `/jobs/<id>` per job once it ended. "
        "The per-trigger baseline cannot keep up at 1,000 triggers: it polls less often than asked (few requests) "
        "and notices ends late (detection delay), so compare CPU, memory and delay there.",
        "",
        p2_section(scale),
        "",
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
    raw = {"imports": imports, "overhead": overhead, "scale": scale, "spec_parse": spec_parse}
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "raw.json").write_text(json.dumps(raw, indent=1))
    (HERE / "RESULTS.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
