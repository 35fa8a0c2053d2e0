"""Polling a job from the worker (the defer grace, and non-deferrable tasks): often while it is young, cheaply.

A small batch job ends a second or two after it started, and the task ends when the worker sees that. Polls
start at :data:`FIRST_INTERVAL` and grow with the job's age (:func:`~..triggers.poller.job_interval`) to the
operator's ``poll_interval``, so a short job's end is seen about 0.05 s after it happened instead of 0.25 s.

Where the target answers a bare state (the session target's ``job_status``: ``/jobs/<id>/status``, a few bytes),
the polls read only that, and the job's details once, after it ended. Reading ``GET /jobs/<id>`` while the job
runs would also delay the end: the JobManager caches that answer for ``web.refresh-interval`` (3 s by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.targets.base import JobHandle, Target
from airflow_provider_flinkbatch.triggers.poller import job_interval

#: Seconds between the first polls of a just-submitted job (then a tenth of its age, up to ``poll_interval``)
#: where the target answers a bare state; targets without one are polled from :data:`FIRST_DETAILS_INTERVAL`.
FIRST_INTERVAL = 0.1
FIRST_DETAILS_INTERVAL = 0.5
#: How long the details may still say running after the bare state said the job ended (a cached answer).
SETTLE_SECONDS = 10.0


def poll_until_end(
    target: Target, handle: JobHandle, poll_interval: float, within: float, started_ms: Any = None
) -> dict[str, Any]:
    """The job's details once it ended, or (still running after ``within`` seconds) a stand-in with its state.

    The stand-in (``jid``, ``state``, ``start-time``: ``started_ms``, else when the watch began) is enough to defer
    or to go on polling: only a job that ended needs its full details (vertices, metrics, duration).
    """
    status_of: Callable[[JobHandle], str] | None = getattr(target, "job_status", None)
    first = min(FIRST_INTERVAL if status_of is not None else FIRST_DETAILS_INTERVAL, poll_interval)
    deadline = time.monotonic() + within
    if not isinstance(started_ms, int) or started_ms <= 0:
        started_ms = int(time.time() * 1000)
    stand_in: dict[str, Any] = {"jid": handle.job_id, "start-time": started_ms}
    while True:
        if status_of is None:
            details = target.job_details(handle)
            if not JobState.from_json(details).running:
                return details
        else:
            details = {**stand_in, "state": status_of(handle)}
            if not JobState.from_json(details).running:
                return settled_details(lambda: target.job_details(handle), details["state"])
        left = deadline - time.monotonic()
        if left <= 0:
            return details
        time.sleep(min(left, job_interval(details, first, poll_interval)))


def settled_details(read: Callable[[], dict[str, Any]], state: str) -> dict[str, Any]:
    """The details (``read()``) of a job a fresh source (``/jobs/<id>/status``, ``/jobs/overview``) said ended in
    ``state``; read again while a cached answer still says running."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        details = read()
        if not JobState.from_json(details).running:
            return details
        if time.monotonic() >= deadline:  # the cache outlived its interval: the fresh state decides
            return {**details, "state": state}
        time.sleep(FIRST_INTERVAL)


def ended_summary(event: dict[str, Any], read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The summary of a job a trigger's terminal event reported: the event's own, or (the session trigger saw the
    end in the shared overview and left the details to the worker, see ``triggers/job.py``) one read now."""
    summary: dict[str, Any] | None = event.get("summary")
    if summary is None:
        summary = summarize_job(settled_details(read, event["state"])).model_dump()
    return summary
