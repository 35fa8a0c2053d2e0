"""P3 (part): what importing the provider costs a DAG file, against importing Airflow's SDK alone.

Each figure is the median wall time of a fresh interpreter doing only that import (N runs).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

IMPORTS = {
    "baseline: airflow.sdk": "import airflow.sdk",
    "airflow.sdk + airflow_provider_flinkbatch": "import airflow.sdk, airflow_provider_flinkbatch",
    "airflow.sdk + operators.sql (what a DAG imports)": (
        "import airflow.sdk; from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator"
    ),
}
HEAVY = ("kubernetes", "kubernetes_asyncio", "httpx", "requests", "fastavro", "jsonschema")


def measure(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code], check=True, env={**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        )
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _loaded(imports: str) -> set[str]:
    code = f"import sys; {imports}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    return {m for m in out.split(",") if m}


def heavy_modules_loaded() -> list[str]:
    """Heavy clients the operator import loads beyond what ``airflow.sdk`` already loads (should be none)."""
    return sorted(_loaded(IMPORTS["airflow.sdk + operators.sql (what a DAG imports)"]) - _loaded("import airflow.sdk"))


def main(runs: int = 5) -> dict[str, object]:
    rows = [{"import": name, "median_s": measure(code, runs), "runs": runs} for name, code in IMPORTS.items()]
    return {"p3_import": rows, "heavy_modules_added_at_parse": heavy_modules_loaded()}


if __name__ == "__main__":
    figures = main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    Path(os.environ.get("BENCH_OUT", "/dev/stdout")).write_text(json.dumps(figures, indent=1))
