"""Run one DAG with ``dag.test()`` in its own process, so a drill can ``kill -9`` it mid-task.

Usage: python run_dag_process.py <dag folder> <dag id> <logical date ISO> <run conf JSON>
Environment (AIRFLOW_HOME, AIRFLOW_CONN_*) comes from the test that starts it.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from airflow.dag_processing.dagbag import DagBag

if __name__ == "__main__":
    folder, dag_id, logical_date, conf = sys.argv[1:5]
    dag = DagBag(dag_folder=folder, safe_mode=False).get_dag(dag_id)
    assert dag is not None, f"{dag_id} not in {folder}"
    when = datetime.fromisoformat(logical_date)
    dag.test(logical_date=when, run_after=when, run_conf=json.loads(conf))  # same run_id every time
