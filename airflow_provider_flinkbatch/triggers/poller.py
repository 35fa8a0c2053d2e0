"""Coalesced polling: one ``GET /jobs/overview`` per cluster per cycle answers every waiting trigger.

A triggerer holding a thousand deferred Flink tasks would otherwise send a thousand ``GET /jobs/<id>``
per interval. Instead, triggers of the same event loop that talk to the same cluster (same REST URL
and credentials) share one :class:`ClusterPoller`: a task that fetches the overview, publishes it as a
:class:`Cycle`, and sleeps for the shortest interval any subscriber currently wants. Triggers ask for
a job's details only when the overview shows it ended (for the summary) or does not list it.

Lifecycle rules, because the triggerer adds and removes triggers at any moment:

* a poller runs while it has subscribers; the decision to stop and the reset of ``_task`` happen with
  no ``await`` in between, so a trigger subscribing "during" shutdown always starts a fresh task;
* a poller task that died anyway (a bug, a cancelled loop) is restarted by the next waiter;
* pollers are kept per event loop (weakly), so a new loop, e.g. after a triggerer restart, starts clean;
* one cluster being slow or down only delays that cluster's poller: each has its own task.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import NO_RETRY, AsyncFlinkRestClient
from airflow_provider_flinkbatch.rest.errors import FlinkRestError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings

log = logging.getLogger(__name__)


def adaptive_interval(age_seconds: float, minimum: float, maximum: float, age_fraction: float) -> float:
    """Seconds until the next poll of a job that has run ``age_seconds``.

    Fast right after submission (short batch jobs end in seconds), then a fixed fraction of the job's
    age, capped: a job's end is noticed within ``max(minimum, min(maximum, age * age_fraction))``.
    """
    return max(minimum, min(maximum, max(age_seconds, 0.0) * age_fraction))


def job_interval(job: dict[str, Any] | None, minimum: float, maximum: float, age_fraction: float = 0.1) -> float:
    """:func:`adaptive_interval` for a job as Flink reports it (``start-time`` in epoch milliseconds)."""
    start = (job or {}).get("start-time")
    age = time.time() - start / 1000 if isinstance(start, int) and start > 0 else 0.0
    return adaptive_interval(age, minimum, maximum, age_fraction)


@dataclass(frozen=True)
class Cycle:
    """One poll's result: the jobs by id, or the error that prevented it."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: Exception | None = None
    #: ``time.monotonic()`` since when the cluster has been failing (None while it answers).
    failing_since: float | None = None


class ClusterPoller:
    """Polls one cluster's ``/jobs/overview`` for the triggers subscribed to it."""

    def __init__(self, settings: FlinkConnectionSettings) -> None:
        self.settings = settings
        # One attempt per cycle: the next cycle is the retry, and each trigger applies its own error budget.
        # Triggers borrow its connection pool (``client.sharing``) for their one detail call at the end.
        self.client = AsyncFlinkRestClient(settings, NO_RETRY)
        self.requests = 0
        self._wanted: dict[object, float] = {}  # subscriber token -> interval it wants now
        self._task: asyncio.Task[None] | None = None
        self._published = asyncio.Event()
        self._latest: Cycle | None = None
        self._failing_since: float | None = None

    @property
    def subscribers(self) -> int:
        return len(self._wanted)

    def subscribe(self, token: object, interval: float) -> None:
        self._wanted[token] = interval
        self._ensure_running()

    def want(self, token: object, interval: float) -> None:
        """Change the interval a subscriber wants (the poller follows the shortest)."""
        if token in self._wanted:
            self._wanted[token] = interval

    def unsubscribe(self, token: object) -> None:
        self._wanted.pop(token, None)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"flink-poller {self.settings.rest_url}"
            )

    async def next_cycle(self) -> Cycle:
        """Wait for the next published poll (restarting the poller if its task is gone)."""
        while True:
            published = self._published
            try:
                await asyncio.wait_for(published.wait(), timeout=self._stall_timeout())
            except TimeoutError:
                self._ensure_running()  # the task died or hangs beyond its own timeouts: never wait forever
                continue
            assert self._latest is not None
            return self._latest

    def _stall_timeout(self) -> float:
        interval = min(self._wanted.values(), default=1.0)
        return interval + self.settings.timeout + 30.0

    def _publish(self, cycle: Cycle) -> None:
        self._latest = cycle
        published, self._published = self._published, asyncio.Event()
        published.set()

    async def _run(self) -> None:
        client = self.client
        try:
            while True:
                if not self._wanted:
                    self._task = None  # same step as the check: a later subscribe starts a new task
                    return
                started = time.monotonic()
                try:
                    self.requests += 1
                    overview = await client.call(calls.jobs_overview())
                    self._failing_since = None
                    jobs = {str(job.get("jid")): job for job in overview.get("jobs", [])}
                    self._publish(Cycle(jobs=jobs))
                except FlinkRestError as err:
                    self._failing_since = self._failing_since or started
                    self._publish(Cycle(error=err, failing_since=self._failing_since))
                interval = min(self._wanted.values(), default=0.0)
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
        except Exception as err:  # never leave waiters hanging: tell them, then let the next waiter restart us
            log.exception("Flink poller for %s stopped", self.settings.rest_url)
            self._publish(Cycle(error=err, failing_since=self._failing_since or time.monotonic()))
        finally:
            await client.aclose()


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, ClusterPoller]] = weakref.WeakKeyDictionary()


def poller_for(settings: FlinkConnectionSettings) -> ClusterPoller:
    """The shared poller of this event loop for this cluster + credentials."""
    pollers = _POLLERS.setdefault(asyncio.get_running_loop(), {})
    key = settings.model_dump_json()
    poller = pollers.get(key)
    if poller is None:
        poller = pollers[key] = ClusterPoller(settings)
    return poller
