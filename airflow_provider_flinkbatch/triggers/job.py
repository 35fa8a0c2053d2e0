"""FlinkJobTrigger: wait in the triggerer for a Flink job to reach a terminal state.

Polls ``GET /jobs/<id>`` with the shared async REST client; transient errors (JobManager briefly
unreachable, proxy 502s) are retried with backoff within ``transient_error_budget`` seconds. Marking
the deferred task failed/success or clearing it calls :meth:`on_kill`, which cancels the job.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient


class FlinkJobTrigger(BaseTrigger):
    """Fire one event when the job is FINISHED, FAILED, CANCELED or SUSPENDED (or cannot be watched).

    Event payload: ``{"status": "terminal", "job_id", "state", "summary"}`` or
    ``{"status": "error", "job_id", "message"}``.
    """

    def __init__(
        self,
        job_id: str,
        flink_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 5.0,
        transient_error_budget: float = 180.0,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.job_id = job_id
        self.flink_conn_id = flink_conn_id
        self.poll_interval = poll_interval
        self.transient_error_budget = transient_error_budget
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_id": self.job_id,
                "flink_conn_id": self.flink_conn_id,
                "poll_interval": self.poll_interval,
                "transient_error_budget": self.transient_error_budget,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_flinkbatch.hooks.flink import FlinkRestHook
        from airflow_provider_flinkbatch.jobs import is_terminal, summarize_job
        from airflow_provider_flinkbatch.rest import calls
        from airflow_provider_flinkbatch.rest.client import RetryPolicy
        from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError

        client = None
        try:
            client = await FlinkRestHook.async_client(
                self.flink_conn_id, RetryPolicy(budget=self.transient_error_budget)
            )
            while True:
                source = "jobmanager"
                try:
                    details = await client.call(calls.job_details(self.job_id))
                except FlinkNotFoundError:
                    # A restarted JobManager forgets finished jobs; the HistoryServer still has them.
                    details = await self._from_history_server(client)
                    source = "historyserver"
                state = str(details["state"])
                if is_terminal(state):
                    summary = summarize_job(details).model_dump()
                    yield TriggerEvent(
                        {
                            "status": "terminal",
                            "job_id": self.job_id,
                            "state": state,
                            "summary": summary,
                            "source": source,
                        }
                    )
                    return
                self.log.debug("Flink job %s is %s", self.job_id, state)
                await asyncio.sleep(self.poll_interval)
        except Exception as err:  # every failure becomes an event the operator reports; nothing hangs
            yield TriggerEvent({"status": "error", "job_id": self.job_id, "message": f"{type(err).__name__}: {err}"})
        finally:
            if client is not None:
                await client.aclose()

    async def _from_history_server(self, client: AsyncFlinkRestClient) -> dict[str, Any]:
        from airflow_provider_flinkbatch.rest import calls
        from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, RetryPolicy
        from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError

        settings = client.settings.for_history_server()
        unknown = f"the JobManager ({client.settings.rest_url}) does not know job {self.job_id}"
        if settings is None:
            raise FlinkNotFoundError(
                f"{unknown}, and the connection has no history_server_url", url=client.settings.rest_url
            )
        history = AsyncFlinkRestClient(settings, RetryPolicy(budget=min(30.0, self.transient_error_budget)))
        try:
            return await history.call(calls.job_details(self.job_id))
        except FlinkNotFoundError as err:
            raise FlinkNotFoundError(
                f"{unknown}, nor does the HistoryServer ({settings.rest_url})", url=err.url
            ) from err
        finally:
            await history.aclose()

    async def on_kill(self) -> None:
        """The user stopped the deferred task: cancel the Flink job so nothing keeps running."""
        if not self.cancel_on_kill:
            return
        from airflow_provider_flinkbatch.hooks.flink import FlinkRestHook
        from airflow_provider_flinkbatch.rest import calls
        from airflow_provider_flinkbatch.rest.client import RetryPolicy

        client = await FlinkRestHook.async_client(self.flink_conn_id, RetryPolicy(budget=30.0))
        try:
            await client.call(calls.cancel_job(self.job_id))
            self.log.info("Cancelled Flink job %s", self.job_id)
        finally:
            await client.aclose()
