"""What every waiting trigger shares: the job it waits for, how it waits, and how Airflow stores it.

Airflow rebuilds a trigger from ``serialize()``'s class path and keyword arguments, so the arguments
are read off the constructors' signatures: a new argument cannot be forgotten in one trigger's
serialization. The class paths stay where they are (``triggers.job``, ``triggers.kubernetes``,
``triggers.yarn``): triggers already stored in Airflow's database keep resolving.

``event_hold``: an event is handed over no earlier than this many seconds after the trigger started. Airflow
3.3 fails a task whose trigger fires while the scheduler has not yet processed the exit of the process that
deferred it ("finished with state success, but the task instance's state attribute is queued", apache/airflow
#67287): a job ending right after the deferral must not fire within that window (see ``targets.grace``). Its
default is Airflow's ``[flinkbatch] event_hold`` (env ``AIRFLOW__FLINKBATCH__EVENT_HOLD``), else 5 s, read
where the trigger is made (the worker) and stored with it.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, TypedDict

from airflow.sdk.configuration import conf
from airflow.triggers.base import BaseTrigger

from airflow_provider_flinkbatch.triggers.user_action import user_stopped_task

#: Decisions after a user action still waiting for the task instance's state (see ``JobWaitTrigger.on_kill``).
_DECISIONS: set[asyncio.Task[None]] = set()


class WaitArgs(TypedDict, total=False):
    """The operator's waiting options (:class:`~airflow_provider_flinkbatch.targets.base.WaitOptions`)."""

    poll_interval: float
    transient_error_budget: float
    cancel_on_kill: bool
    event_hold: float


class JobWaitTrigger(BaseTrigger):
    """Base of the provider's triggers: one event when the job is over (or cannot be watched)."""

    def __init__(
        self,
        job_id: str,
        *,
        poll_interval: float = 5.0,
        transient_error_budget: float = 180.0,
        cancel_on_kill: bool = True,
        event_hold: float = conf.getfloat("flinkbatch", "event_hold", fallback=5.0),
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.poll_interval = poll_interval  # the longest wait between polls
        self.transient_error_budget = transient_error_budget
        self.cancel_on_kill = cancel_on_kill
        self.event_hold = event_hold
        self._started = time.monotonic()

    async def hold_event(self) -> None:
        """Wait until ``event_hold`` seconds have passed since the trigger started (see the module's docstring)."""
        await asyncio.sleep(max(0.0, self.event_hold - (time.monotonic() - self._started)))

    async def on_kill(self) -> None:
        """The user marked the deferred task success/failed, or cleared it (Airflow does not say which).

        A task marked before any triggerer ran its trigger never gets here: the api-server's listener
        (:mod:`~airflow_provider_flinkbatch.plugins.marked`) cancels its job. Run by a triggerer, the decision
        waits for the task instance's state in the background: Airflow bounds ``on_kill`` at 30 s, and a busy
        triggerer answers state questions later than that (seen: 30-60 s). Marked success/failed →
        :meth:`cancel_job`; cleared → the job keeps running for the new try
        (:mod:`~airflow_provider_flinkbatch.triggers.user_action`). Outside a triggerer: :meth:`cancel_job` now.
        """
        if not self.cancel_on_kill:
            return
        if self.task_instance is None:
            await self.cancel_job()
            return
        decision = asyncio.create_task(self._after_user_action(), name=f"flinkbatch-on-kill-{self.job_id}")
        _DECISIONS.add(decision)  # the loop keeps only weak references to tasks
        decision.add_done_callback(_DECISIONS.discard)

    async def _after_user_action(self) -> None:
        if not await user_stopped_task(self):
            self.log.info("The task was cleared: Flink job %s keeps running for the task's new try", self.job_id)
            return
        try:
            await self.cancel_job()
        except Exception as err:  # logged: nothing else would see it
            self.log.error("Could not cancel Flink job %s after the user stopped the task: %s", self.job_id, err)

    async def cancel_job(self) -> None:
        """Stop the job (each target's way)."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        names: dict[str, None] = {}
        for cls in type(self).__mro__:
            if cls is JobWaitTrigger or (isinstance(cls, type) and issubclass(cls, JobWaitTrigger)):
                for name, parameter in inspect.signature(cls.__init__).parameters.items():
                    if name != "self" and parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                        names[name] = None
        return f"{type(self).__module__}.{type(self).__qualname__}", {name: getattr(self, name) for name in names}
