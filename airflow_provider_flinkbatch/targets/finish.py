"""Waiting for a job in the worker and what follows its end, whatever the target: the target's optional
cleanup, then the success summary; and cancelling the task's jobs when the task is killed.

The operator only reports; the steps that need the target (its ``after_terminal`` housekeeping, its
``job_accumulators`` for the runner's rows-written counters) live here, next to the target interface,
so every target gets them the same way and a failure in them never changes the task's outcome.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from airflow_provider_flinkbatch.jobs import JobSummary, complete_summary
from airflow_provider_flinkbatch.lineage import job_lineage
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.targets.base import JobHandle, JobRequest, Target
from airflow_provider_flinkbatch.targets.worker_poll import poll_until_end


def wait_in_worker(target: Target, handle: JobHandle, details: dict[str, Any], poll_interval: float) -> dict[str, Any]:
    """The job's details once it ended (non-deferrable tasks): ``details`` (the last poll's) if it already has."""
    if not JobState.from_json(details).running:
        return details
    return poll_until_end(target, handle, poll_interval, math.inf, details.get("start-time"))


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


def cancel_task_jobs(target: Target, job_id: str | None, request: JobRequest | None, log: logging.Logger | Any) -> None:
    """Cancel the task's Flink job (``on_kill``). Killed while still submitting, the job id is not known yet
    (on YARN the CLI runs for many seconds after the application exists): then the task instance's live
    jobs, found by their identity, are cancelled. Errors are logged, never raised: the kill goes on."""
    job_ids = [job_id] if job_id else []
    if not job_ids and request is not None:
        try:
            existing = target.find_existing(request.identity)
        except Exception as err:
            log.error("Could not look for this task's Flink jobs to cancel: %s", err)
            return
        job_ids = [job.handle.job_id for job in existing if not JobState.of(job.state).terminal]
    for found in job_ids:
        try:
            target.cancel(target.handle_for(found, request))
            log.info("Cancelled Flink job %s", found)
        except Exception as err:
            log.error("Could not cancel Flink job %s: %s", found, err)
