"""What every waiting trigger shares: the job it waits for, how it waits, and how Airflow stores it.

Airflow rebuilds a trigger from ``serialize()``'s class path and keyword arguments, so the arguments
are read off the constructors' signatures: a new argument cannot be forgotten in one trigger's
serialization. The class paths stay where they are (``triggers.job``, ``triggers.kubernetes``,
``triggers.yarn``): triggers already stored in Airflow's database keep resolving.
"""

from __future__ import annotations

import inspect
from typing import Any, TypedDict

from airflow.triggers.base import BaseTrigger


class WaitArgs(TypedDict, total=False):
    """The operator's waiting options (:class:`~airflow_provider_flinkbatch.targets.base.WaitOptions`)."""

    poll_interval: float
    transient_error_budget: float
    cancel_on_kill: bool


class JobWaitTrigger(BaseTrigger):
    """Base of the provider's triggers: one event when the job is over (or cannot be watched)."""

    def __init__(
        self,
        job_id: str,
        *,
        poll_interval: float = 5.0,
        transient_error_budget: float = 180.0,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.poll_interval = poll_interval  # the longest wait between polls
        self.transient_error_budget = transient_error_budget
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        names: dict[str, None] = {}
        for cls in type(self).__mro__:
            if cls is JobWaitTrigger or (isinstance(cls, type) and issubclass(cls, JobWaitTrigger)):
                for name, parameter in inspect.signature(cls.__init__).parameters.items():
                    if name != "self" and parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                        names[name] = None
        return f"{type(self).__module__}.{type(self).__qualname__}", {name: getattr(self, name) for name in names}
