"""FlinkKubernetesTrigger: follow a FlinkDeployment / FlinkSessionJob to a terminal outcome, asynchronously.

Polls the custom resource through the Airflow Kubernetes connection (``AsyncKubernetesHook``,
``kubernetes_asyncio``), by default through one LIST per namespace and kind per cycle that every
Kubernetes trigger of the triggerer shares (:mod:`~airflow_provider_flinkbatch.triggers.poller`),
and reads ``.status`` with the same rules as the target (:mod:`~airflow_provider_flinkbatch.kubernetes.state`).
Once the job id is known and a JobManager REST URL is configured, the job's own ``GET /jobs/<id>``
(progress, vertices, counters) is read too: it is the summary of the terminal event. Events are those
of :class:`FlinkJobTrigger`.

API errors that can pass (5xx, 429, connection loss) are retried within ``transient_error_budget``
seconds; a refused request ends in an ``error`` event, a deleted resource (404, or missing from the
LIST and then 404) in a CANCELED one. ``on_kill`` suspends the
resource (``spec.job.state: suspended``): the operator cancels the Flink job.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Unpack

from airflow.triggers.base import TriggerEvent

from airflow_provider_flinkbatch.history.sources import AsyncJobLookup, AsyncRestJobSource
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.kubernetes.hook import (
    API_TIMEOUT,
    AsyncFlinkResource,
    AsyncFlinkResources,
    transient_api_error,
)
from airflow_provider_flinkbatch.kubernetes.state import ResourceState, StallWatch, details_from_status
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkRestError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.triggers.base import JobWaitTrigger, WaitArgs
from airflow_provider_flinkbatch.triggers.poller import SharedPoller, Subscription, shared_poller


class ResourcesPoller(SharedPoller):
    """One LIST per cycle of this provider's resources of one kind in one namespace
    (:class:`~airflow_provider_flinkbatch.kubernetes.hook.AsyncFlinkResources`), for every Kubernetes
    trigger of this event loop waiting on one of them."""

    def __init__(self, kubernetes_conn_id: str, namespace: str, plural: str) -> None:
        self.resources = AsyncFlinkResources(kubernetes_conn_id, namespace, plural)
        super().__init__(
            f"kubernetes {kubernetes_conn_id} {namespace}/{plural}",
            self.resources.listed,
            close=self.resources.aclose,
            timeout=API_TIMEOUT,  # the LIST's own deadline; the poller adds its grace
            transient=transient_api_error,
        )


def resources_poller(kubernetes_conn_id: str, namespace: str, plural: str) -> ResourcesPoller:
    key = json.dumps(["kubernetes", kubernetes_conn_id, namespace, plural])
    return shared_poller(key, lambda: ResourcesPoller(kubernetes_conn_id, namespace, plural))


class FlinkKubernetesTrigger(JobWaitTrigger):
    """Fire one event when the resource's job is FINISHED, FAILED, CANCELED or SUSPENDED (or cannot be watched).

    ``coalesce`` (default): the resource comes from the event loop's shared LIST of this provider's
    resources of its kind and namespace (one request per cycle for every waiting trigger). A resource
    not in the LIST (deleted, or not labelled as this provider's) or a LIST that failed for good is
    read with this trigger's own GET, so the outcome (a 404 is a deleted resource) is the same as with
    ``coalesce=False`` (one GET per resource per ``poll_interval``, the benchmarks' baseline).
    """

    def __init__(
        self,
        job_id: str,
        ref: str,
        plural: str,
        kubernetes_conn_id: str,
        flink_conn_id: str | None = None,
        rest_url: str | None = None,
        stall_grace: float = 600.0,
        coalesce: bool = True,
        **wait: Unpack[WaitArgs],
    ) -> None:
        super().__init__(job_id, **wait)
        self.stall_grace = stall_grace
        self.ref = ref
        self.plural = plural
        self.kubernetes_conn_id = kubernetes_conn_id
        self.flink_conn_id = flink_conn_id
        self.rest_url = rest_url
        self.coalesce = coalesce

    @property
    def namespace(self) -> str:
        return self.ref.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.ref.split("/", 1)[1]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        rest = None
        try:
            rest = await self._rest_client()
            # a coroutine, not a nested generator: the subscription ends before the event is handed over
            async with self._observations() as next_resource:
                event = await self._follow(next_resource, rest)
        except Exception as err:  # every failure becomes an event the operator reports; nothing hangs
            event = TriggerEvent({"status": "error", "job_id": self.job_id, "message": _describe(err, self.ref)})
        finally:
            if rest is not None:
                await rest.aclose()
        await self.hold_event()
        yield event

    @asynccontextmanager
    async def _observations(self) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any] | None]]]:
        """``next_resource()``: the resource at the next poll, ``None`` once it is deleted."""
        if not self.coalesce:
            async with self._resource() as api:
                first = True

                async def own_get() -> dict[str, Any] | None:
                    nonlocal first
                    if not first:
                        await asyncio.sleep(self.poll_interval)
                    first = False
                    return await self._get(api)

                yield own_get
            return
        poller = resources_poller(self.kubernetes_conn_id, self.namespace, self.plural)
        warn = functools.partial(
            self.log.warning, "Kubernetes API error while watching %s (waiting it out): %s", self.ref
        )
        async with Subscription(poller, self.poll_interval, self.transient_error_budget, warn) as shared:

            async def listed() -> dict[str, Any] | None:
                cycle = await shared.next()
                resource = cycle.items.get(self.name) if cycle.error is None else None
                if resource is not None:
                    return resource
                # not listed (deleted, or not labelled as ours) or a lasting LIST error: its own GET decides
                return await self._get(await poller.resources.resource(self.name))

            yield listed

    async def _get(self, api: AsyncFlinkResource) -> dict[str, Any] | None:
        """The resource (transient API errors retried within the budget), ``None`` when it is gone (404)."""
        retry = RetryPolicy(budget=self.transient_error_budget)  # the package's one retry policy
        try:
            async for attempt in retry.async_retrying(self._retry_transient, min_wait=self.poll_interval):
                with attempt:
                    return await api.get()
        except Exception as err:
            if getattr(err, "status", None) != 404:
                raise
            return None
        raise AssertionError("unreachable: tenacity returns or raises")

    async def _follow(
        self, next_resource: Callable[[], Awaitable[dict[str, Any] | None]], rest: AsyncFlinkRestClient | None
    ) -> TriggerEvent:
        last_seen: tuple[str, Any, Any, str] | None = None
        stall = StallWatch(self.stall_grace)
        observed: ResourceState | None = None
        while True:
            resource = await next_resource()
            if resource is None:
                flink = await self._flink_after_delete(rest, observed)
                gone = ResourceState.deleted(self.ref, observed, str(flink["state"]) if flink else None)
                details = flink if flink and gone.state == flink["state"] else None
                details = details or details_from_status({}, self.job_id, "", gone)
                return TriggerEvent(self._terminal(gone, details))
            observed = stall.check(ResourceState.of(resource), time.monotonic())
            # A FlinkSessionJob runs under the id the operator chose: follow .status.jobStatus.jobId.
            flink_job_id = observed.job_id or self.job_id
            flink = None
            if rest is not None and observed.jobmanager_running:
                flink = await self._job_details(rest, flink_job_id)
            details = observed.job_details(resource, flink_job_id, flink)
            state = str(details["state"])
            if JobState.of(state).terminal:
                return TriggerEvent(self._terminal(observed, details))
            vertices = details.get("vertices") or []
            done = sum(1 for v in vertices if v.get("status") == "FINISHED")
            progress = f", {done}/{len(vertices)} vertices finished" if vertices else ""
            stalled = f" ({observed.stalled})" if observed.stalled else ""
            seen = (state, observed.lifecycle, observed.deployment, progress + stalled)
            if seen != last_seen:  # one line per change, not per poll
                self.log.info("%s: job %s, lifecycle %s, JobManager %s%s", self.ref, *seen)
                last_seen = seen

    def _terminal(self, observed: ResourceState, details: dict[str, Any]) -> dict[str, Any]:
        event: dict[str, Any] = {
            "status": "terminal",
            "job_id": self.job_id,
            "flink_job_id": observed.job_id or self.job_id,
            "state": str(details["state"]),
            "summary": summarize_job(details).model_dump(),
            "source": "jobmanager" if details.get("vertices") else "kubernetes",
            "ref": self.ref,
            "retryable": observed.retryable,
        }
        if observed.error:
            event["message"] = observed.error
        return event

    def _retry_transient(self, err: BaseException) -> bool:
        """API errors that can pass (5xx, 429, connection loss) are retried; the rest end the wait."""
        if not transient_api_error(err):
            return False
        self.log.warning("Kubernetes API error while watching %s (retrying): %s", self.ref, err)
        return True

    def _resource(self) -> Any:
        return AsyncFlinkResource.connect(self.kubernetes_conn_id, self.namespace, self.plural, self.name)

    async def _rest_client(self) -> Any:
        """The JobManager's REST client (``rest_url``) with the flink connection's auth and TLS, if any."""
        if not self.rest_url:
            return None

        retry = RetryPolicy(budget=min(10.0, self.transient_error_budget))
        if self.flink_conn_id is None:
            return AsyncFlinkRestClient(FlinkConnectionSettings(rest_url=self.rest_url), retry)
        base = await FlinkRestHook.async_client(self.flink_conn_id, retry)
        settings = base.settings.model_copy(update={"rest_url": self.rest_url})
        await base.aclose()
        return AsyncFlinkRestClient(settings, retry)

    async def _flink_after_delete(self, rest: Any, observed: ResourceState | None) -> dict[str, Any] | None:
        """Flink's ``/jobs/<id>`` of a job whose resource was deleted (JobManager, then HistoryServer: the one
        lookup chain), when its id was seen and no outcome was; ``None`` if no source knows it."""
        if observed is None or observed.terminal or not observed.job_id:
            return None
        history = await self._history_client()
        sources = [AsyncRestJobSource("jobmanager", rest)] if rest is not None else []
        if history is not None:
            sources.append(AsyncRestJobSource("historyserver", history))
        try:
            source, answer, tried = await AsyncJobLookup(sources).first(f"/jobs/{observed.job_id}")
        finally:
            if history is not None:
                await history.aclose()
        self.log.info("%s was deleted; Flink job %s: %s", self.ref, observed.job_id, "; ".join(tried) or "no source")
        return dict(answer) if source is not None else None

    async def _history_client(self) -> AsyncFlinkRestClient | None:
        """The flink connection's HistoryServer, if it has one."""
        if self.flink_conn_id is None:
            return None
        retry = RetryPolicy(budget=min(10.0, self.transient_error_budget))
        base = await FlinkRestHook.async_client(self.flink_conn_id, retry)
        settings = base.settings.for_history_server()
        await base.aclose()
        return AsyncFlinkRestClient(settings, retry) if settings is not None else None

    async def _job_details(self, rest: Any, job_id: str) -> dict[str, Any] | None:
        """The JobManager's view of the job; ``None`` while it is not reachable (not up yet, or gone)."""
        try:
            details: dict[str, Any] = await rest.call(calls.job_details(job_id))
            return details
        except FlinkRestError as err:
            self.log.debug("JobManager REST for %s not available: %s", self.ref, err)
            return None

    async def cancel_job(self) -> None:
        """The user stopped the deferred task: suspend the resource so the operator cancels the job."""
        async with self._resource() as api:
            await api.suspend()
        self.log.info("Suspended %s: the operator cancels Flink job %s", self.ref, self.job_id)


def _describe(err: Exception, ref: str) -> str:
    status = getattr(err, "status", None)
    reason = getattr(err, "reason", None)
    if isinstance(status, int) and reason:
        return f"Kubernetes API answered {status} {reason} for {ref}"
    return f"{type(err).__name__}: {err}"
