"""YarnApplicationTrigger: wait in the triggerer for a Flink job running as a YARN application.

YARN decides when the application is over; Flink knows how the job went. So each poll reads the
application from the ResourceManager and, while it runs, the job from Flink's REST API through the
YARN web proxy (the tracking URL). The event fires as soon as either says the job is over: Flink's
terminal job details when the proxy still answers, else the HistoryServer's archive, else YARN's
final status. Same event contract as :class:`~airflow_provider_flinkbatch.triggers.job.FlinkJobTrigger`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any, Unpack

from airflow.triggers.base import TriggerEvent

from airflow_provider_flinkbatch.history.sources import AsyncJobLookup, AsyncRestJobSource, parse_answer
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkRestError
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.triggers.base import JobWaitTrigger, WaitArgs
from airflow_provider_flinkbatch.triggers.poller import job_interval
from airflow_provider_flinkbatch.yarn import calls as rm_calls
from airflow_provider_flinkbatch.yarn.hook import FlinkYarnHook, async_flink_client, proxy_url
from airflow_provider_flinkbatch.yarn.settings import DEFAULT_CONN_ID, YarnConnectionSettings
from airflow_provider_flinkbatch.yarn.state import ApplicationState, details_from_app


class YarnApplicationTrigger(JobWaitTrigger):
    """Fire one event when the job's YARN application (or the Flink job in it) is over.

    Event payload: ``{"status": "terminal", "job_id", "state", "summary", "source", "application_id",
    "yarn_state", "yarn_final_status", "diagnostics"}`` or ``{"status": "error", "job_id", "message"}``.
    """

    def __init__(
        self, application_id: str, job_id: str, flink_conn_id: str = DEFAULT_CONN_ID, **wait: Unpack[WaitArgs]
    ) -> None:
        super().__init__(job_id, **wait)
        self.application_id = application_id
        self.flink_conn_id = flink_conn_id

    async def run(self) -> AsyncIterator[TriggerEvent]:
        rm = None
        try:
            rm = await FlinkYarnHook.async_rm(self.flink_conn_id, RetryPolicy(budget=self.transient_error_budget))
            while True:
                app = await rm.call(rm_calls.application(self.application_id))
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
                    yield TriggerEvent(
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
                    return
                # as often as the other triggers: fast while the application is young, then up to poll_interval
                started = {"start-time": int(app.get("startedTime") or 0)}
                await asyncio.sleep(job_interval(started, min(0.5, self.poll_interval), self.poll_interval))
        except Exception as err:  # every failure becomes an event the operator reports; nothing hangs
            yield TriggerEvent({"status": "error", "job_id": self.job_id, "message": f"{type(err).__name__}: {err}"})
        finally:
            if rm is not None:
                await rm.aclose()

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

    async def on_kill(self) -> None:
        """The user stopped the deferred task: kill the YARN application so nothing keeps running."""
        if not self.cancel_on_kill:
            return

        rm = await FlinkYarnHook.async_rm(self.flink_conn_id, RetryPolicy(budget=30.0))
        try:
            state = await rm.call(rm_calls.kill(self.application_id))
            self.log.info("Asked YARN to kill %s (state %s)", self.application_id, state)
        finally:
            await rm.aclose()
