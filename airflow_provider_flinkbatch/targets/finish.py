"""Waiting for a job in the worker and what follows its end, whatever the target: the target's optional
cleanup, then the success summary.

The operator only reports; the steps that need the target (its ``after_terminal`` housekeeping, its
``job_accumulators`` for the runner's rows-written counters) live here, next to the target interface,
so every target gets them the same way and a failure in them never changes the task's outcome.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from airflow_provider_flinkbatch.jobs import JobSummary, complete_summary
from airflow_provider_flinkbatch.lineage import job_lineage
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.targets.base import JobHandle, Target
from airflow_provider_flinkbatch.triggers.poller import job_interval


def wait_in_worker(target: Target, handle: JobHandle, details: dict[str, Any], poll_interval: float) -> dict[str, Any]:
    """Poll ``job_details`` until the job ended, as often as the trigger would (non-deferrable tasks)."""
    while JobState.from_json(details).running:
        time.sleep(job_interval(details, min(0.5, poll_interval), poll_interval))
        details = target.job_details(handle)
    return details


def clean_up(target: Target, handle: JobHandle, state: str, log: logging.Logger | Any) -> None:
    """The target's optional ``after_terminal`` (Kubernetes: delete the resource after success, mark failures
    for keeping). Cleanup is housekeeping: its failure is logged, not raised."""
    after_terminal = getattr(target, "after_terminal", None)
    if after_terminal is None:
        return
    try:
        after_terminal(handle, state)
    except Exception as err:
        log.warning("Cleanup after Flink job %s failed: %s", handle.job_id, err)


def finished_summary(
    target: Target, handle: JobHandle, summary: dict[str, Any], statements: list[str], log: logging.Logger | Any
) -> tuple[dict[str, Any], JobSummary]:
    """The XCom summary of a FINISHED job (sinks named after the INSERT targets, the runner's rows-written
    counters applied when the target reaches its REST API) and the same as a :class:`JobSummary`."""
    sinks = [table.table for table in job_lineage(statements).outputs]
    summary = complete_summary(summary, sinks, _accumulators(target, handle, log))
    return summary, JobSummary.model_validate(summary)


def _accumulators(target: Target, handle: JobHandle, log: logging.Logger | Any) -> dict[str, Any] | None:
    read = getattr(target, "job_accumulators", None)
    try:
        return read(handle) if read is not None else None
    except Exception as err:  # the figures are informative: never fail a finished job over them
        log.warning("Could not read the rows-written counters of Flink job %s: %s", handle.job_id, err)
        return None
