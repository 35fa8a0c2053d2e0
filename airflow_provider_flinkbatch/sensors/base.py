"""What every Flink job sensor does the same way: poke in the worker, or check once and defer.

A sensor does not own the job it waits for, so it never cancels it; a subclass says how to check
(:meth:`poke`, which stores the summary of a job that is over) and which trigger waits for it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseSensorOperator, Context
from airflow.triggers.base import BaseTrigger


class FlinkJobWaitSensor(BaseSensorOperator):
    """Base of the Flink job sensors: ``deferrable`` waits in the triggerer, unless the job is already over."""

    deferrable: bool
    _summary: dict[str, Any] | None = None

    def wait_trigger(self) -> BaseTrigger:
        """The trigger that waits for the job (it never cancels it: the sensor does not own it)."""
        raise NotImplementedError

    def execute(self, context: Context) -> dict[str, Any] | None:
        if not self.deferrable:
            super().execute(context)  # pokes every poke_interval until poke() is True or raises
            return self._summary
        if self.poke(context):  # already over: no need to defer
            return self._summary
        self.defer(trigger=self.wait_trigger(), method_name="execute_complete", timeout=self.execution_timeout)
        return None
