"""The operator's ``explain=True`` step: plan the job before submitting, report, fail on warnings if asked.

Kept out of the operator (which only sequences request -> target -> wait -> result) and out of
:mod:`.explain` (which knows nothing of Airflow): this is where the plan report meets the task,
its log, its XCom ``flink_plan`` and ``plan_check``.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_flinkbatch.plan.explain import ExplainError, explain_script
from airflow_provider_flinkbatch.targets.base import JobRequest

PLAN_XCOM_KEY = "flink_plan"


def check_plan(
    ti: Any, log: logging.Logger | Any, request: JobRequest, script: str, where: str, plan_check: str, task_id: str
) -> None:
    """Log the optimized plan and its insight, push the report to XCom, fail on warnings with ``"fail"``."""
    try:
        insight = explain_script(request.statements, request.flink_config, script, where)
    except ExplainError as err:
        raise AirflowFailException(f"{task_id}: {err}") from None
    log.info("Optimized plan:\n%s\nPlan insight:\n%s", insight.plan, insight.describe())
    ti.xcom_push(key=PLAN_XCOM_KEY, value=insight.model_dump())
    if insight.warnings and plan_check == "fail":
        warnings = "; ".join(insight.warnings)
        raise AirflowFailException(f"{task_id}: plan check failed (plan_check='fail'): {warnings}")
