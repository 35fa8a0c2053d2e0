"""YarnApplicationTrigger: wait in the triggerer for a Flink job running as a YARN application.

YARN decides when the application is over; Flink knows how the job went. So each poll reads the
application from the ResourceManager (by default from one listing per cluster per cycle that every
YARN trigger of the triggerer shares, see :mod:`~airflow_provider_flinkbatch.triggers.poller`) and,
while it runs, the job from Flink's REST API through the YARN web proxy (the tracking URL). The event
fires as soon as either says the job is over: Flink's terminal job details when the proxy still
answers, else the HistoryServer's archive, else YARN's final status. Same event contract as
:class:`~airflow_provider_flinkbatch.triggers.job.FlinkJobTrigger`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from typing import Any, Unpack

from airflow.triggers.base import TriggerEvent

from airflow_provider_flinkbatch.history.sources import AsyncJobLookup, AsyncRestJobSource, parse_answer
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import NO_RETRY, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkRestError
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.triggers.base import JobWaitTrigger, WaitArgs
from airflow_provider_flinkbatch.triggers.poller import SharedPoller, Subscription, job_interval, shared_poller
from airflow_provider_flinkbatch.yarn import calls as rm_calls
from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient
from airflow_provider_flinkbatch.yarn.hook import FlinkYarnHook, async_flink_client, proxy_url, waiting_applications
from airflow_provider_flinkbatch.yarn.settings import DEFAULT_CONN_ID, YarnConnectionSettings
from airflow_provider_flinkbatch.yarn.state import ApplicationState, details_from_app


class ApplicationsPoller(SharedPoller):
    """One ResourceManager listing per cycle (:func:`~airflow_provider_flinkbatch.yarn.hook.waiting_applications`)
    for every YARN trigger of this event loop on the same cluster and credentials."""

    def __init__(self, settings: YarnConnectionSettings) -> None:
        # One attempt per cycle: the next cycle is the retry; each trigger applies its own error budget.
        self.rm = AsyncYarnRmClient(settings, NO_RETRY)
        super().__init__(
            f"yarn {','.join(settings.rm_urls)}",
            functools.partial(waiting_applications, self.rm),
            close=self.rm.aclose,
            timeout=settings.timeout,
        )


def applications_poller(settings: YarnConnectionSettings) -> ApplicationsPoller:
    return shared_poller(f"yarn {settings.model_dump_json()}", lambda: ApplicationsPoller(settings))


class YarnApplicationTrigger(JobWaitTrigger):
    """Fire one event when the job's YARN application (or the Flink job in it) is over.

    Event payload: ``{"status": "terminal", "job_id", "state", "summary", "source", "application_id",
    "yarn_state", "yarn_final_status", "diagnostics"}`` or ``{"status": "error", "job_id", "message"}``.

    ``coalesce`` (default): the application's state comes from the event loop's shared listing of this
    provider's waiting applications (one RM request per cluster per cycle); an application not listed
    (it ended, or it lacks the provider's tag) or a listing that failed for good is read with this
    trigger's own ``GET .../apps/<id>``, so the outcome is the same as with ``coalesce=False`` (one
    GET per application per interval, the benchmarks' baseline).
    """

    def __init__(
        self,
        application_id: str,
        job_id: str,
        flink_conn_id: str = DEFAULT_CONN_ID,
        coalesce: bool = True,
        **wait: Unpack[WaitArgs],
    ) -> None:
        super().__init__(job_id, **wait)
        self.application_id = application_id
        self.flink_conn_id = flink_conn_id
        self.coalesce = coalesce

    def _interval(self, app: dict[str, Any] | None) -> float:
        """As often as the other triggers: fast while the application is young, then up to poll_interval."""
        started = {"start-time": int((app or {}).get("startedTime") or 0)}
        return job_interval(started, min(0.5, self.poll_interval), self.poll_interval)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        rm = None
        try:
            settings = await FlinkYarnHook.async_settings(self.flink_conn_id)
            retry = RetryPolicy(budget=self.transient_error_budget)
            # a coroutine, not a nested generator: the subscription ends before the event is handed over
            if self.coalesce:
                poller = applications_poller(settings)
                rm = poller.rm.sharing(retry)  # the cluster's shared connection pool
                warn = functools.partial(self.log.warning, "YARN ResourceManager error (waiting it out): %s")
                async with Subscription(poller, self._interval(None), self.transient_error_budget, warn) as shared:
                    event = await self._follow(rm, shared)
            else:
                rm = AsyncYarnRmClient(settings, retry)
                event = await self._follow(rm, None)
        except Exception as err:  # every failure becomes an event the operator reports; nothing hangs
            event = TriggerEvent({"status": "error", "job_id": self.job_id, "message": f"{type(err).__name__}: {err}"})
        finally:
            if rm is not None:
                await rm.aclose()
        await self.hold_event()
        yield event

    async def _application(self, rm: AsyncYarnRmClient, shared: Subscription | None) -> dict[str, Any]:
        """The RM's answer about the application this cycle: the shared listing's, else its own GET."""
        if shared is not None:
            cycle = await shared.next()
            app = cycle.items.get(self.application_id) if cycle.error is None else None
            if app is not None:
                return app
        # not listed (ended, or no provider tag) or a lasting listing error: ask as without sharing
        return await rm.call(rm_calls.application(self.application_id))

    async def _follow(self, rm: AsyncYarnRmClient, shared: Subscription | None) -> TriggerEvent:
        while True:
            app = await self._application(rm, shared)
            details: dict[str, Any] | None = None
            source = "jobmanager"
            observed = ApplicationState.of(app)
            if observed.running:
                details = await self._flink_get(rm.settings, proxy_url(rm.settings, app))
                if details is not None and JobState.from_json(details).running:
                    self._log_progress(summarize_job(details).model_dump())
                    details = None
            elif observed.final:
                details, source = await self._after_end(rm.settings, app), "historyserver"
                if details is None:
                    details, source = details_from_app(app, self.job_id), "yarn"
            if details is not None:
                return TriggerEvent(
                    {
                        "status": "terminal",
                        "job_id": self.job_id,
                        "state": str(details["state"]),
                        "summary": summarize_job(details).model_dump(),
                        "source": source,
                        "application_id": self.application_id,
                        "yarn_state": app.get("state"),
                        "yarn_final_status": app.get("finalStatus"),
                        "diagnostics": str(app.get("diagnostics") or "")[:4000],
                    }
                )
            if shared is not None:
                shared.want(self._interval(app))
            else:
                await asyncio.sleep(self._interval(app))

    def _log_progress(self, summary: dict[str, Any]) -> None:
        """One line per change (state or finished vertices), not one per poll."""
        progress = (summary["state"], summary["vertices_finished"], summary["vertices_total"])
        if progress != getattr(self, "_last_progress", None):
            self._last_progress = progress
            self.log.info(
                "Flink job %s in %s is %s: %d/%d vertices finished", self.job_id, self.application_id, *progress
            )

    async def _flink_get(self, settings: YarnConnectionSettings, base_url: str) -> dict[str, Any] | None:
        """``/jobs/<id>`` from a Flink REST endpoint; None when it does not (yet) answer with the job."""
        client = async_flink_client(settings, base_url, RetryPolicy(budget=min(self.poll_interval, 10.0)))
        call = calls.job_details(self.job_id)
        try:  # on_error="skip": the proxy shows a page while the JobManager starts or stops
            source, details, tried = await AsyncJobLookup([AsyncRestJobSource("flink", client)]).first(call.path)
        finally:
            await client.aclose()
        try:
            return parse_answer(call, details, source) if source is not None else None
        except FlinkRestError as err:  # a page that is not Flink's JSON: not (yet) the JobManager
            tried.append(str(err))
        self.log.debug("Flink REST at %s: %s", base_url, "; ".join(tried))
        return None

    async def _after_end(self, settings: YarnConnectionSettings, app: dict[str, Any]) -> dict[str, Any] | None:
        """The HistoryServer's archive of the job, waiting up to ``history_grace`` after the end for it."""
        if not settings.history_server_url:
            return None
        ended = int(app.get("finishedTime") or 0) / 1000 or time.time()
        while True:
            details = await self._flink_get(settings, settings.history_server_url)
            if details is not None or time.time() - ended > settings.history_grace:
                return details
            await asyncio.sleep(min(1.0, self.poll_interval))

    async def cancel_job(self) -> None:
        """The user stopped the deferred task: kill the YARN application so nothing keeps running."""
        rm = await FlinkYarnHook.async_rm(self.flink_conn_id, RetryPolicy(budget=30.0))
        try:
            state = await rm.call(rm_calls.kill(self.application_id))
            self.log.info("Asked YARN to kill %s (state %s)", self.application_id, state)
        finally:
            await rm.aclose()
