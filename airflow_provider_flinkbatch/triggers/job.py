"""FlinkJobTrigger: wait in the triggerer for a Flink job to reach a terminal state.

By default the trigger does not poll on its own: it subscribes to the event loop's shared
:class:`~airflow_provider_flinkbatch.triggers.poller.ClusterPoller` for its cluster, so one
``GET /jobs/overview`` per cycle serves every waiting trigger. When the overview (fresh, unlike the
JobManager's cached ``/jobs/<id>``) shows the job ended, the event says so without a summary: the resumed
worker reads the details (:func:`~airflow_provider_flinkbatch.targets.worker_poll.ended_summary`), which it
asks Flink for anyway. One ``/jobs/<id>`` per ended job in the triggerer was two thirds of its CPU at a
thousand jobs. Only a job the overview no longer lists (JobManager restarted) is asked for by its own
request, which falls back to the HistoryServer. The interval adapts to the job's age (see ``adaptive_interval``).
The cluster failing for longer than ``transient_error_budget`` seconds ends the wait with an error
event. Marking the deferred task failed/success calls :meth:`on_kill`, which cancels the job; clearing
it calls it too, and the job is kept for the new try (see ``triggers.user_action``). ``coalesce=False``
polls ``/jobs/<id>`` per trigger (the benchmarks' baseline).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Unpack

from airflow.triggers.base import TriggerEvent

from airflow_provider_flinkbatch.history.sources import AsyncJobLookup, AsyncRestJobSource, parse_answer
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.triggers.base import JobWaitTrigger, WaitArgs
from airflow_provider_flinkbatch.triggers.poller import ClusterPoller, Subscription, Watch, job_interval, poller_for


class FlinkJobTrigger(JobWaitTrigger):
    """Fire one event when the job is FINISHED, FAILED, CANCELED or SUSPENDED (or cannot be watched).

    Event payload: ``{"status": "terminal", "job_id", "state", "summary", "source"}`` or
    ``{"status": "error", "job_id", "message"}``. ``summary`` is None when the shared overview showed the end
    (the worker reads it then); it is there when the trigger read the job's details itself.
    """

    def __init__(
        self,
        job_id: str,
        flink_conn_id: str = DEFAULT_CONN_ID,
        min_poll_interval: float = 0.5,
        poll_age_fraction: float = 0.1,
        coalesce: bool = True,
        **wait: Unpack[WaitArgs],
    ) -> None:
        super().__init__(job_id, **wait)  # poll_interval: the longest interval (adaptive polling caps at it)
        self.flink_conn_id = flink_conn_id
        self.min_poll_interval = min(min_poll_interval, self.poll_interval)
        self.poll_age_fraction = poll_age_fraction
        self.coalesce = coalesce
        self._last_details: dict[str, Any] | None = None

    def _interval(self, job: dict[str, Any] | None) -> float:
        return job_interval(job, self.min_poll_interval, self.poll_interval, self.poll_age_fraction)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        client = None
        try:
            settings = await FlinkRestHook.async_settings(self.flink_conn_id)
            retry = RetryPolicy(budget=self.transient_error_budget)
            # a coroutine, not a nested generator: the subscription ends before the event is handed over
            if self.coalesce:
                poller = poller_for(settings)
                client = poller.client.sharing(retry)  # the cluster's shared connection pool
                event = await self._coalesced(poller, client)
            else:
                client = AsyncFlinkRestClient(settings, retry)
                event = await self._per_job(client)
        except Exception as err:  # every failure becomes an event the operator reports; nothing hangs
            event = TriggerEvent({"status": "error", "job_id": self.job_id, "message": f"{type(err).__name__}: {err}"})
        finally:
            if client is not None:
                await client.aclose()
        await self.hold_event()
        yield event

    async def _coalesced(self, poller: ClusterPoller, client: AsyncFlinkRestClient) -> TriggerEvent:
        """Follow the job through the shared poller; ask for details only when it matters."""
        watch = Watch(self.job_id, self._interval_while_running)  # woken only when its job is not listed as running
        budget = self.transient_error_budget
        async with Subscription(poller, self.min_poll_interval, budget, watch=watch) as subscription:
            while True:
                # a transient error lasting beyond the budget raises; a lasting one (401, 404: no overview
                # here) falls through to the job's own details, which end in the precise error (or the
                # HistoryServer's answer)
                cycle = await subscription.next()
                job = cycle.items.get(self.job_id)
                if job is not None:
                    state = JobState.from_json(job)
                    if state.running:
                        subscription.want(self._interval(job))
                        continue
                    return self._terminal(state, None, "jobmanager")  # the worker reads the details
                # not listed (a restarted JobManager forgot it, or no overview here): one detail call decides
                event = await self._event_if_terminal(client)
                if event is not None:
                    return event

    def _interval_while_running(self, job: dict[str, Any]) -> float | None:
        return self._interval(job) if JobState.from_json(job).running else None

    async def _per_job(self, client: AsyncFlinkRestClient) -> TriggerEvent:
        """One ``/jobs/<id>`` request per trigger per interval (no sharing)."""
        while True:
            event = await self._event_if_terminal(client)
            if event is not None:
                return event
            await asyncio.sleep(self._interval(self._last_details))

    async def _event_if_terminal(self, client: AsyncFlinkRestClient) -> TriggerEvent | None:
        details, source = await self._details(client)
        self._last_details = details
        state = JobState.of(details["state"], self.job_id)
        if state.running:
            self.log.debug("%s", state.message)
            return None
        return self._terminal(state, summarize_job(details).model_dump(), source)

    def _terminal(self, state: JobState, summary: dict[str, Any] | None, source: str) -> TriggerEvent:
        return TriggerEvent(
            {"status": "terminal", "job_id": self.job_id, "state": state.state, "summary": summary, "source": source}
        )

    async def _details(self, client: AsyncFlinkRestClient) -> tuple[dict[str, Any], str]:
        """``/jobs/<id>`` and who answered: the JobManager, else (a restarted one forgets finished jobs) the
        HistoryServer. Errors other than "not found" end the wait (``on_error="raise"``), as they should."""
        settings = client.settings.for_history_server()
        history = (
            AsyncFlinkRestClient(settings, RetryPolicy(budget=min(30.0, self.transient_error_budget)))
            if settings is not None
            else None
        )
        sources = [AsyncRestJobSource("jobmanager", client)]
        sources += [AsyncRestJobSource("historyserver", history)] if history is not None else []
        call = calls.job_details(self.job_id)
        try:
            source, details, _ = await AsyncJobLookup(sources, on_error="raise").first(call.path)
        finally:
            if history is not None:
                await history.aclose()
        if source is not None:
            return parse_answer(call, details, source), source.name
        unknown = f"the JobManager ({client.settings.rest_url}) does not know job {self.job_id}"
        if settings is None:
            raise FlinkNotFoundError(
                f"{unknown}, and the connection has no history_server_url", url=client.settings.rest_url
            )
        raise FlinkNotFoundError(f"{unknown}, nor does the HistoryServer ({settings.rest_url})", url=settings.rest_url)

    async def cancel_job(self) -> None:
        """The user stopped the deferred task: cancel the Flink job so nothing keeps running."""
        client = await FlinkRestHook.async_client(self.flink_conn_id, RetryPolicy(budget=30.0))
        try:
            await client.call(calls.cancel_job(self.job_id))
            self.log.info("Cancelled Flink job %s", self.job_id)
        finally:
            await client.aclose()
