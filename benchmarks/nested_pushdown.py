"""Pushdown on real Parquet: records and bytes read for a pushed vs an unpushed variant of the same query.

``python benchmarks/nested_pushdown.py [--rows N]``: starts a private local cluster with the Parquet jar,
writes N events (a ``user_info`` ROW of 4 fields incl. a 200-character ``bio``, two ``dt`` partitions) as
Parquet once, then runs each pair of queries on that same data in the same run. Operator chaining is off,
so the scan is its own vertex and Flink's vertex metrics say what it produced: records and bytes out of
the scan (``write-records`` / ``write-bytes``). Beside them, the TaskManager's ``rchar`` (bytes its
process read through system calls, page cache included) shows what the scan read from the files.

Pairs (pushed first):
- partition filter: ``dt = '2026-11-01'`` vs ``dt = '2026-11-01' OR id < 0`` (same rows, no pruning);
- projection: top-level ``id, amount`` vs ``id, user_info.city`` (Flink 2.3 reads the struct whole).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import make_request  # noqa: E402

from airflow_provider_flinkbatch.local import LocalCluster  # noqa: E402
from airflow_provider_flinkbatch.local.jars import connector_jars  # noqa: E402
from airflow_provider_flinkbatch.specs.testing import SpecTestRunner  # noqa: E402

STRUCT = "ROW<name STRING, city STRING, age INT, bio STRING>"
PAIRS = {
    "partition filter": (
        "INSERT INTO out1 SELECT id, amount FROM events WHERE dt = '2026-11-01'",
        "INSERT INTO out1 SELECT id, amount FROM events WHERE dt = '2026-11-01' OR id < 0",
    ),
    "projection": (
        "INSERT INTO out1 SELECT id, amount FROM events WHERE dt = '2026-11-01'",
        "INSERT INTO out2 SELECT id, user_info.city FROM events WHERE dt = '2026-11-01'",
    ),
}


def _tables(path: Path) -> str:
    return (
        f"CREATE TEMPORARY TABLE events (id BIGINT, user_info {STRUCT}, amount DOUBLE, dt STRING) "
        f"PARTITIONED BY (dt) WITH ('connector' = 'filesystem', 'path' = '{path.as_uri()}', 'format' = 'parquet');\n"
        "CREATE TEMPORARY TABLE out1 (id BIGINT, amount DOUBLE) WITH ('connector' = 'blackhole');\n"
        "CREATE TEMPORARY TABLE out2 (id BIGINT, city STRING) WITH ('connector' = 'blackhole');\n"
    )


def _rchar(pid: int) -> int:
    with open(f"/proc/{pid}/io") as io:
        return int(next(line for line in io if line.startswith("rchar")).split()[1])


def _run(target: Any, sql: str, name: str, tm_pid: int) -> dict[str, Any]:
    before = _rchar(tm_pid)
    started = time.monotonic()
    handle = target.submit(make_request(sql, f"{name}-{uuid.uuid4().hex[:6]}"))
    while (details := target.job_details(handle))["state"] not in ("FINISHED", "FAILED", "CANCELED"):
        time.sleep(0.2)
    if details["state"] != "FINISHED":
        raise RuntimeError(f"{name}: job {handle.job_id} {details['state']}")
    scan = next(v for v in details["vertices"] if v["name"].startswith("Source: events"))
    return {
        "job_id": handle.job_id,
        "seconds": round(time.monotonic() - started, 2),
        "scan_records_out": scan["metrics"]["write-records"],
        "scan_bytes_out": scan["metrics"]["write-bytes"],
        "taskmanager_rchar": _rchar(tm_pid) - before,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="flinkbatch-bench-pushdown-"))
    cluster = LocalCluster(state / "cluster", jars=connector_jars(["parquet"]))
    info = cluster.up(timeout=240)
    try:
        target = SpecTestRunner(info.rest_url).target()
        data = state / "events"
        write = _tables(data) + (
            "CREATE TEMPORARY TABLE gen (id BIGINT, name STRING, city STRING, age INT, bio STRING, amount DOUBLE) "
            f"WITH ('connector' = 'datagen', 'number-of-rows' = '{args.rows}', 'fields.id.kind' = 'sequence', "
            f"'fields.id.start' = '1', 'fields.id.end' = '{args.rows}', 'fields.bio.length' = '200');\n"
            "INSERT INTO events SELECT id, ROW(name, city, age, bio), amount, "
            "CASE WHEN MOD(id, 2) = 0 THEN '2026-11-01' ELSE '2026-11-02' END FROM gen;"
        )
        tm_pid = info.pids["taskmanager"]
        handle = target.submit(make_request(write, "bench-write"))
        while target.job_details(handle)["state"] not in ("FINISHED", "FAILED", "CANCELED"):
            time.sleep(0.3)
        size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file() and not p.name.startswith("."))
        results: dict[str, Any] = {"rows": args.rows, "parquet_bytes": size, "pairs": {}}
        prefix = "SET 'pipeline.operator-chaining.enabled' = 'false';\n" + _tables(data)
        for pair, (pushed, unpushed) in PAIRS.items():
            _run(target, prefix + pushed, "warm-up", tm_pid)  # planner/classes warm, files in page cache
            results["pairs"][pair] = {
                "pushed": _run(target, prefix + pushed, "pushed", tm_pid),
                "unpushed": _run(target, prefix + unpushed, "unpushed", tm_pid),
            }
    finally:
        cluster.down()
    print(f"{args.rows} rows, {results['parquet_bytes'] / 1e6:.1f} MB of Parquet in 2 partitions")
    print(f"{'pair':18} {'variant':9} {'scan records':>12} {'scan bytes':>12} {'TM read':>10} {'time':>6}")
    for pair, variants in results["pairs"].items():
        for variant, figures in variants.items():
            print(
                f"{pair:18} {variant:9} {figures['scan_records_out']:>12,} {figures['scan_bytes_out'] / 1e6:>10.1f}MB "
                f"{figures['taskmanager_rchar'] / 1e6:>8.1f}MB {figures['seconds']:>5.1f}s"
            )
        ratio = variants["unpushed"]["taskmanager_rchar"] / max(1, variants["pushed"]["taskmanager_rchar"])
        print(f"{'':18} unpushed/pushed bytes read: {ratio:.1f}x")
    out = ROOT / "benchmarks" / "results" / "nested_pushdown.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
