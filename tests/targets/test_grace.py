"""The defer race of Airflow 3.3 for short jobs (issue 20, item 9), with the real scheduler and Flink.

A deferrable task whose job ends within seconds could end FAILED ("... finished with state success, but the
task instance's state attribute is queued", apache/airflow #67287). The provider's default mode watches the
job from the worker for ``defer_grace`` seconds first (``targets/grace.py``): a short job finishes there.
A handful of runs here; ``tests/drills/defer_race.py`` runs 50, with and without the grace.
"""

from __future__ import annotations

import math

import pytest
from deferred_airflow import RACE_MESSAGE, DeferredDeployment

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.targets.grace import DEFAULT_DEFER_GRACE, check_defer_grace

SHORT = "deferred_short"
RUNS = 5


@pytest.mark.integration
def test_short_deferrable_runs_never_fail_falsely(deferred_airflow: DeferredDeployment) -> None:
    run_ids = [f"short-{index}" for index in range(RUNS)]
    for run_id in run_ids:
        deferred_airflow.trigger(SHORT, run_id)
    tis = {run_id: deferred_airflow.wait_for_try(SHORT, run_id, 1, timeout=600) for run_id in run_ids}
    assert {run_id: ti["state"] for run_id, ti in tis.items()} == dict.fromkeys(run_ids, "success")
    for run_id in run_ids:
        assert [job["state"] for job in deferred_airflow.flink_jobs(SHORT, run_id)] == ["FINISHED"]
        log = deferred_airflow.task_log(SHORT, run_id, 1)
        assert "FINISHED" in log and "Pausing task as DEFERRED" not in log, log[-2000:]
    assert RACE_MESSAGE not in deferred_airflow.component_log("scheduler")


def test_defer_grace_defaults_to_ten_seconds_and_refuses_nonsense() -> None:
    task = FlinkBatchSqlOperator(task_id="t", sql="SELECT 1", deferrable=True)
    assert task.defer_grace == DEFAULT_DEFER_GRACE == 10.0
    assert FlinkBatchSqlOperator(task_id="u", sql="SELECT 1", defer_grace=0).defer_grace == 0.0
    for bad in (-1, math.inf, math.nan, "10", True):
        with pytest.raises(ValueError) as err:
            check_defer_grace(bad)
        assert str(err.value) == (
            f"defer_grace={bad!r}: give the seconds to watch a job from the worker before deferring, a finite "
            "number >= 0 (default 10; 0 defers at once)"
        )
