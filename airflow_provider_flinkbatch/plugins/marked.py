"""Mark success / mark failed cancels a deferred task's Flink job, also before a triggerer ran its trigger.

``JobWaitTrigger.on_kill`` runs only for a trigger that a triggerer runs. A triggerer loads new triggers once a
second, later when it is busy, so a task marked in the first seconds after it deferred has a trigger no
triggerer ever ran: Airflow deletes it unseen and the Flink job would go on unwatched (seen on Airflow 3.3.2: a
task marked success 1.5 s after it deferred, its job ran on to FINISHED). A triggerer that is down or restarting
leaves the same gap.

The api-server calls listeners for each task instance a user marks (``previous_state=None``; Airflow's own
failure handling passes the state the task left), and the task instance still names its trigger then. This
listener rebuilds the trigger from its stored arguments, as a triggerer would, and runs its
:meth:`~airflow_provider_flinkbatch.triggers.base.JobWaitTrigger.cancel_job` (the call ``on_kill`` makes) in
a background thread, so the user's request does not wait for Flink, YARN or Kubernetes. When a triggerer runs
the trigger as well, its ``on_kill`` cancels again: cancelling is idempotent on every backend (Flink answers
202 again, YARN keeps KILLED, the resource stays suspended). A clear fires no such listener: the new try
follows the job (``triggers/user_action.py``).

Loaded in every Airflow component through the plugin, so it stays cheap: the provider's triggers are
imported only when a marked task instance waits on one of them.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
from typing import Any

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)
#: Only triggers of this provider are rebuilt (their class path is stored with the trigger by Airflow).
PACKAGE = "airflow_provider_flinkbatch."


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    cancel_if_marked(previous_state, task_instance)


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    cancel_if_marked(previous_state, task_instance)


def cancel_if_marked(previous_state: Any, task_instance: Any) -> threading.Thread | None:
    """For a task instance a user marked while it waited on one of our triggers: cancel its job (in a thread)."""
    if previous_state is not None or getattr(task_instance, "trigger_id", None) is None:
        return None  # not a user's mark, or the task was not deferred (a worker's task is killed, on_kill cancels)
    stored = task_instance.trigger  # the api-server's ORM task instance; its trigger row still exists
    if stored is None or not str(stored.classpath).startswith(PACKAGE):
        return None
    task = f"{task_instance.dag_id}.{task_instance.task_id} ({task_instance.run_id})"
    thread = threading.Thread(
        target=cancel_stored_trigger,
        args=(str(stored.classpath), dict(stored.kwargs), task),
        name=f"flinkbatch-marked {task}",
        daemon=True,
    )
    thread.start()
    return thread


def cancel_stored_trigger(classpath: str, kwargs: dict[str, Any], task: str) -> None:
    """Rebuild the trigger Airflow stored and run its ``cancel_job``; failures are logged (nobody else sees them)."""
    # the triggers and their hooks load only here, in the api-server, when a marked task waits on one of them
    from airflow_provider_flinkbatch.triggers.base import JobWaitTrigger

    module, _, name = classpath.rpartition(".")
    trigger_class = getattr(importlib.import_module(module), name, None)
    if not (isinstance(trigger_class, type) and issubclass(trigger_class, JobWaitTrigger)):
        return
    trigger = trigger_class(**kwargs)
    if not trigger.cancel_on_kill:
        log.info("%s was marked while deferred; cancel_on_kill is off: Flink job %s runs on", task, trigger.job_id)
        return
    try:
        asyncio.run(trigger.cancel_job())
    except Exception as err:  # logged: the mark itself has already happened
        log.error("%s was marked while deferred; could not cancel its Flink job %s: %s", task, trigger.job_id, err)
        return
    log.info("%s was marked while deferred: cancelled its Flink job %s", task, trigger.job_id)
