"""Watch a just-submitted job from the worker for a short grace before deferring (the default mode).

Airflow 3.3 can fail a deferrable task whose job ends within seconds: the trigger fires and the scheduler queues
the task again before it has processed the exit of the process that deferred it, then reads that exit as
"finished with state success, but the task instance's state attribute is queued" and marks the task FAILED
(apache/airflow #67287, #71580, #72716). A job that ends within ``defer_grace`` seconds is therefore finished
in the worker, without deferring; a longer one defers, and its trigger holds an early event for
``event_hold`` seconds (``triggers.base``) so the deferral's exit is processed first.

``defer_grace`` is an operator argument; its default is Airflow's ``[flinkbatch] defer_grace`` (env
``AIRFLOW__FLINKBATCH__DEFER_GRACE``), else :data:`DEFAULT_DEFER_GRACE`. ``0`` defers at once.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.targets.base import JobHandle, Target
from airflow_provider_flinkbatch.targets.worker_poll import poll_until_end

DEFAULT_DEFER_GRACE = 10.0

log = logging.getLogger(__name__)


def check_defer_grace(value: Any) -> float:
    """``value`` as seconds if it is a finite number >= 0, else a ValueError saying how to fix it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"defer_grace={value!r}: give the seconds to watch a job from the worker before deferring, a finite "
            f"number >= 0 (default {DEFAULT_DEFER_GRACE:g}; 0 defers at once)"
        )
    return float(value)


def watch_before_defer(target: Target, handle: JobHandle, grace: float, poll_interval: float) -> dict[str, Any]:
    """The job's details once it ended or ``grace`` seconds passed, whichever comes first."""
    details = poll_until_end(target, handle, poll_interval, grace)
    if grace > 0 and JobState.from_json(details).running:
        log.info("Flink job %s still runs after the %gs defer grace: waiting in the triggerer", handle.job_id, grace)
    return details
