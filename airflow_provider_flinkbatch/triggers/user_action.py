"""What a user action on a deferred task means for its Flink job, as the trigger's ``on_kill`` sees it.

Airflow 3.3 calls ``BaseTrigger.on_kill`` for three user actions alike (mark success, mark failed, clear) and
never says which. Cancelling the job on a clear races the new try: the new try reattaches to the running job
(same task instance, same job id) and then the old trigger's late ``on_kill`` cancels it, so the new try ends
CANCELED. The task instance's state tells the actions apart when ``on_kill`` runs: marked success or failed
(an ended state) means "stop"; anything else means a clear, and the new try follows the job. So:

* mark success / mark failed → the job is cancelled (with ``cancel_on_kill``, the default);
* clear → the job keeps running; the new try reattaches to it (or, if it already FINISHED unreported,
  reports it; with changed SQL, cancels it and submits the next attempt), see ``docs/identity.md``.

If the state cannot be read within :data:`STATE_TIMEOUT` seconds, the job is cancelled (the documented behaviour
before; nothing runs unwatched). The question goes to the triggerer's supervisor asynchronously, on the event
loop (``asend``): the synchronous SDK call (``RuntimeTaskInstance.get_ti_count`` through ``sync_to_async``)
deadlocks the triggerer's event loop inside ``on_kill`` (seen on Airflow 3.3.2: the triggerer restarted).
"""

from __future__ import annotations

import asyncio
from typing import Any

from airflow.sdk.execution_time import task_runner
from airflow.sdk.execution_time.comms import GetTICount, TICount

#: Task instance states after which no try of it follows: the user stopped the task.
ENDED_STATES = ("success", "failed", "skipped", "upstream_failed", "removed")
#: Seconds to wait for the task instance's state (asked in the background: a busy triggerer answers late).
STATE_TIMEOUT = 120.0


async def user_stopped_task(trigger: Any) -> bool:
    """True if the deferred task was marked success/failed (cancel its job), False if it was cleared."""
    ti = getattr(trigger, "task_instance", None)
    if ti is None:  # a trigger without its task instance (not run by a triggerer): keep the old behaviour
        return True
    question = GetTICount(
        dag_id=ti.dag_id, map_index=ti.map_index, task_ids=[ti.task_id], run_ids=[ti.run_id], states=list(ENDED_STATES)
    )
    try:
        # the supervisor's channel is set when the triggerer starts (read it now, not at import)
        answer = await asyncio.wait_for(task_runner.SUPERVISOR_COMMS.asend(question), STATE_TIMEOUT)
        if not isinstance(answer, TICount):
            raise TypeError(f"the triggerer answered {type(answer).__name__}")
    except Exception as err:  # never leave a job running because a state could not be read
        trigger.log.warning("Could not read the state of %s.%s (%r): cancelling its job", ti.dag_id, ti.task_id, err)
        return True
    return answer.count > 0
