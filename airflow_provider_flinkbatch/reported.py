"""Which Flink job a try of this task instance reported as its success, kept in Airflow's task state store.

It decides what a clear means for a task whose job FINISHED (``docs/identity.md``, "Clearing a task"):

* the job was **reported** (a try ended successfully with it, Airflow showed the task as success): the user
  clears to process the data again, so the next try submits the next attempt;
* the job was **never reported** (the worker died, the trigger's event or a submission's answer was lost, the
  task failed for a reason of Airflow's): it is the task's result, reported without running the SQL again.

The task state store (``task_state_store``, Airflow 3.3) is shared by every try of a task instance and, unlike
XCom, survives a clear. The id is written as the very last step of a successful try.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REPORTED_KEY = "flink_job_reported"


def reported_job(context: Mapping[str, Any]) -> str | None:
    """The job id an earlier try of this task instance reported as its success, if any."""
    store = context.get("task_state_store")
    value = store.get(REPORTED_KEY) if store is not None else None
    return str(value) if value else None


def mark_reported(context: Mapping[str, Any], job_id: str) -> None:
    """Record that this try reports ``job_id`` as its success (a later clear runs the SQL again)."""
    store = context.get("task_state_store")
    if store is not None:
        store.set(REPORTED_KEY, job_id)
