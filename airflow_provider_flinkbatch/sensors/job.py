"""FlinkJobSensor: wait for a Flink job that something else submitted (by id) to finish.

Succeeds when the job is FINISHED; fails with the job's root cause when it ends otherwise. The
sensor does not own the job, so it never cancels it. Deferrable mode waits in the triggerer with
the same :class:`FlinkJobTrigger` the operator uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import Context
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_flinkbatch.failures import diagnose_or_placeholder, raise_for_failed_job
from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook, JobHistoryNotFound
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID
from airflow_provider_flinkbatch.sensors.base import FlinkJobWaitSensor
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.targets.worker_poll import ended_summary
from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger


class FlinkJobSensor(FlinkJobWaitSensor):
    """Wait until the Flink job ``job_id`` (32 hex characters, templated) reaches a terminal state.

    :param job_id: the Flink job id, e.g. ``"{{ ti.xcom_pull('submit')['job_id'] }}"``.
    :param flink_conn_id: connection of type ``flink_batch``.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :return: (XCom) the job summary, as :class:`~airflow_provider_flinkbatch.operators.sql.FlinkBatchSqlOperator`.
    """

    template_fields: Sequence[str] = ("job_id",)
    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        job_id: str,
        flink_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.flink_conn_id = flink_conn_id
        self.deferrable = deferrable
        self._summary: dict[str, Any] | None = None

    def _details(self) -> dict[str, Any]:
        """``/jobs/<id>`` from the JobManager, or (job forgotten after a restart) the HistoryServer/archives."""
        hook = getattr(self, "_history_hook", None)
        if hook is None:  # one hook (connection lookup, HTTP sessions) for every poke of this run
            hook = self._history_hook = FlinkHistoryServerHook(self.flink_conn_id, RetryPolicy())
        try:
            _, details = hook.job_details(self.job_id)
        except JobHistoryNotFound as err:
            raise AirflowFailException(str(err)) from err
        return details

    def poke(self, context: Context) -> bool:
        details = self._details()
        state = JobState.of(details["state"], self.job_id)
        if state.running:
            self.log.info("%s", state.message)
            return False
        self._summary = self._check(context, summarize_job(details).model_dump())
        return True

    def _check(self, context: Context, summary: dict[str, Any]) -> dict[str, Any]:
        if JobState.of(summary["state"]).succeeded:
            return summary
        state = summary["state"]
        raise_for_failed_job(self.log, context, diagnose_or_placeholder(self.flink_conn_id, self.job_id, state, None))

    def wait_trigger(self) -> FlinkJobTrigger:
        return FlinkJobTrigger(
            job_id=self.job_id, flink_conn_id=self.flink_conn_id, poll_interval=self.poke_interval, cancel_on_kill=False
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") != "terminal":
            raise AirflowException(f"Lost track of Flink job {self.job_id}: {event.get('message')}")
        return self._check(context, ended_summary(event, self._details))
