"""Choosing a target: a wrong name or wrong options fail when the DAG is parsed, naming the fix."""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.targets.registry import TargetOptionsError


def test_unknown_target_name_lists_the_known_ones() -> None:
    with pytest.raises(TargetOptionsError, match=r"target='sesion' is not a known target; use one of .*'session'"):
        FlinkBatchSqlOperator(task_id="t", sql="SELECT 1", target="sesion")


def test_session_target_refuses_options_it_would_ignore() -> None:
    with pytest.raises(TargetOptionsError, match=r"target='session' takes no target_options; got \['queue'\]"):
        FlinkBatchSqlOperator(task_id="t", sql="SELECT 1", target_options={"queue": "etl"})
