"""Parse time of job-spec folders, as the dag-processor pays it: ``python benchmarks/spec_parse.py``.

For 50 and 500 generated near-identical specs (one defaults.yaml, a spec, its SQL and a test case
each), every step runs in a fresh Python process (the dag-processor parses a DAG file in a fresh
process too) with Airflow's task SDK already imported, best of ``--repeat`` runs:

* baseline   yaml.safe_load of every spec file (libyaml), nothing else: the floor of any YAML approach
* load cold  load_specs() with an empty cache: YAML + defaults merge + pydantic + checks
* load warm  load_specs() with the cache filled by an earlier parse (files unchanged)
* dags cold  build_dags(): load + one DAG and FlinkBatchSqlOperator per spec, empty cache
* dags warm  build_dags() with a warm cache

Ratios are against the baseline measured in the same run (machines differ; ratios travel better).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULTS = """\
owner: data-platform
schedule: "@daily"
start_date: 2026-01-01
tags: [ingestion, generated]
flink_conn_id: flink_batch_default
params: {data_dir: /data}
resources: {parallelism: 4}
flink_config:
  table.exec.sink.not-null-enforcer: ERROR
  table.optimizer.dynamic-filtering.enabled: true
presets: [blocking-shuffle]
retries: 2
retry_delay: 5m
execution_timeout: 2h
deferrable: true
retry_on: {out_of_memory: false}
"""

SPEC = """\
name: ingest_{i:04d}
description: ingest event type {i}
sql: sql/ingest_{i:04d}.sql
sources: [events_{i:04d}]
sinks: [daily_{i:04d}]
flink_config: {{pipeline.name: ingest_{i:04d}}}
tests:
  - name: counts
    inputs:
      events_{i:04d}: [{{id: 1, country: de}}, {{id: 2, country: fr}}]
    expected:
      daily_{i:04d}: [{{country: DE, events: 1}}, {{country: FR, events: 1}}]
"""

SQL = """\
CREATE TEMPORARY TABLE events_{i:04d} (id BIGINT, country STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/events_{i:04d}/{{{{ ds }}}}', 'format' = 'json');
CREATE TEMPORARY TABLE daily_{i:04d} (country STRING, events BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/daily_{i:04d}/{{{{ ds }}}}', 'format' = 'csv');
INSERT OVERWRITE daily_{i:04d} SELECT UPPER(country), COUNT(*) FROM events_{i:04d} GROUP BY UPPER(country);
"""

STEPS = ("baseline", "load cold", "load warm", "dags cold", "dags warm")


def generate(folder: Path, count: int) -> None:
    (folder / "sql").mkdir(parents=True)
    (folder / "defaults.yaml").write_text(DEFAULTS)
    for i in range(count):
        (folder / f"ingest_{i:04d}.yaml").write_text(SPEC.format(i=i))
        (folder / "sql" / f"ingest_{i:04d}.sql").write_text(SQL.format(i=i))


def child(step: str, folder: str) -> None:
    """One measurement in this (fresh) process; prints seconds and the number of specs/DAGs."""
    import airflow.sdk  # noqa: F401 - the dag-processor has Airflow loaded before it runs a DAG file

    started = time.perf_counter()
    if step == "baseline":
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        paths = sorted(Path(folder).glob("*.yaml"))  # the specs and their defaults.yaml
        for path in paths:
            yaml.load(path.read_bytes(), Loader=loader)
        count = len(paths)
    elif step.startswith("load"):
        from airflow_provider_flinkbatch.specs.load import load_specs

        specs = load_specs(folder)
        assert not specs.errors, specs.errors[:3]
        count = len(specs.specs)
    else:
        from airflow_provider_flinkbatch.specs.factory import build_dags

        count = len(build_dags(folder, on_error="raise"))
    print(json.dumps({"seconds": time.perf_counter() - started, "count": count}))


def measure(step: str, folder: Path, home: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        if step.endswith("cold"):
            shutil.rmtree(home / "spec-cache", ignore_errors=True)
        env = {**os.environ, "FLINKBATCH_HOME": str(home)}
        out = subprocess.run(
            [sys.executable, __file__, "--child", step, str(folder)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=600,
        ).stdout
        times.append(json.loads(out.strip().splitlines()[-1])["seconds"])
    return min(times) if step.endswith("warm") or step == "baseline" else statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="50,500", help="spec counts (default 50,500)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (default 3)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    rows = []
    with tempfile.TemporaryDirectory(prefix="flinkbatch-bench-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            folder = Path(tmp) / f"specs-{size}"
            generate(folder, size)
            home = Path(tmp) / f"home-{size}"
            results = {}
            for step in STEPS:
                if step.endswith("warm"):  # fill the cache first
                    measure(step.replace("warm", "cold"), folder, home, 1)
                results[step] = measure(step, folder, home, args.repeat)
            for step in STEPS:
                rows.append((size, step, results[step], results[step] / results["baseline"]))
    print(f"{'specs':>5}  {'step':<10} {'seconds':>8} {'ms/spec':>8} {'x baseline':>10}")
    for size, step, seconds, ratio in rows:
        print(f"{size:>5}  {step:<10} {seconds:>8.3f} {seconds * 1000 / size:>8.2f} {ratio:>10.1f}")
    print(f"(python {sys.version.split()[0]}, {os.cpu_count()} cpus; best/median of {args.repeat} fresh processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
