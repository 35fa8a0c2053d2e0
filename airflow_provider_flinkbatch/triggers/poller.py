"""Coalesced polling: one request per control plane per cycle answers every waiting trigger.

A triggerer holding a thousand deferred tasks would otherwise send a thousand status requests per
interval. Instead, triggers of the same event loop that watch the same control plane share one
:class:`SharedPoller`: a task that runs one listing request, publishes the result as a :class:`Cycle`,
and sleeps for the shortest interval any subscriber currently wants. Each backend says what "one
listing" is (its hook does the I/O):

* Flink session cluster: ``GET /jobs/overview`` (:class:`ClusterPoller`);
* YARN: ``GET /ws/v1/cluster/apps`` of this provider's tag in the non-final states, per ResourceManager;
* Kubernetes: one LIST of this provider's resources per namespace and kind.

A trigger whose item is not in the listing (it ended, was deleted, is not labelled as ours) or that sees
a lasting error of the listing asks with its own request, exactly as it would without sharing: the
outcome a user sees is the same, only the requests while waiting are shared.

Lifecycle rules, because the triggerer adds and removes triggers at any moment:

* a poller runs while it has subscribers; the decision to stop and the reset of ``_task`` happen with
  no ``await`` in between, so a trigger subscribing "during" shutdown always starts a fresh task;
* a poller task that died anyway (a bug, a cancelled loop) is restarted by the next waiter;
* pollers are kept per event loop (weakly), so a new loop, e.g. after a triggerer restart, starts clean;
* one control plane being slow or down only delays its own poller: each has its own task, and each
  cycle's request has a deadline of its own (``timeout`` + :data:`CYCLE_GRACE`), whether or not the
  client bounds it: a stalled request ends as a transient cycle error and the next cycle asks again;
* a subscriber only looks at listings that started after it subscribed (an older one may predate
  the item it waits for);
* a subscriber may hand the poller a :class:`Watch` (its item's key and a check): the poller then wakes it
  only when its item is not listed as still waiting, or the listing failed, and keeps its interval from the
  check meanwhile. Waking thousands of triggers per cycle only for each to see "still running" cost more
  CPU than the listing itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import NO_RETRY, AsyncFlinkRestClient
from airflow_provider_flinkbatch.rest.errors import FlinkRestError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings

log = logging.getLogger(__name__)
P = TypeVar("P", bound="SharedPoller")
#: Seconds a cycle's request may run past the poller's ``timeout`` (the client's own deadline should end it
#: first, with its precise message) before the poller ends it.
CYCLE_GRACE = 5.0


class ListingStalled(Exception):
    """A cycle's request did not finish within the poller's deadline (it can pass: the next cycle asks again)."""

    transient = True


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


def _flink_transient(err: BaseException) -> bool:
    return bool(getattr(err, "transient", False))


@dataclass
class Watch:
    """What a subscriber waits for, so that the poller need not wake it each cycle.

    :param key: its item in the listing (job id, application id, resource name).
    :param waiting: for its listed item, the interval it wants next while the item still waits, or None:
        the item reached something the subscriber must look at (then it is woken with the cycle).
    """

    key: str
    waiting: Callable[[dict[str, Any]], float | None]
    since: float = 0.0  # only cycles started at or after this wake it (see :meth:`Subscription.next`)
    future: asyncio.Future[Cycle] | None = None  # pending while the subscriber waits in next_cycle


@dataclass(frozen=True)
class Cycle:
    """One poll's result: the items by key (job id, application id, resource name), or the error that prevented it."""

    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: Exception | None = None
    #: ``time.monotonic()`` since when the control plane has been failing (None while it answers).
    failing_since: float | None = None
    #: Whether the error can pass (waiting helps) rather than a lasting one (refused, not found).
    transient: bool = False
    #: ``time.monotonic()`` when this cycle's request was sent.
    started: float = 0.0


class SharedPoller:
    """Runs ``fetch`` once per cycle for the triggers subscribed to it.

    :param name: what is polled, for logs and the task name.
    :param fetch: one listing request: items by key. Any exception becomes the cycle's error.
    :param close: releases the connections after the last subscriber left (``fetch`` reopens them).
    :param timeout: the request timeout (a poller silent for longer than interval + timeout + 30 s is restarted).
    :param transient: which errors of ``fetch`` can pass.
    """

    def __init__(
        self,
        name: str,
        fetch: Callable[[], Awaitable[dict[str, dict[str, Any]]]],
        *,
        close: Callable[[], Awaitable[None]] | None = None,
        timeout: float = 30.0,
        transient: Callable[[BaseException], bool] = _flink_transient,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._close = close
        self.timeout = timeout
        self._is_transient = transient
        #: requests sent (one per cycle): the benchmarks and tests read it.
        self.requests = 0
        self._wanted: dict[object, float] = {}  # subscriber token -> interval it wants now
        self._watches: dict[object, Watch] = {}  # subscribers woken only when their item needs them
        self._task: asyncio.Task[None] | None = None
        self._published = asyncio.Event()
        self._latest: Cycle | None = None
        self._failing_since: float | None = None
        self._interval = 1.0  # the current cycle's interval: computed once per cycle, not once per waiter

    @property
    def subscribers(self) -> int:
        return len(self._wanted)

    def subscribe(self, token: object, interval: float, watch: Watch | None = None) -> None:
        self._wanted[token] = interval
        if watch is not None:
            self._watches[token] = watch
        self._ensure_running()

    def want(self, token: object, interval: float) -> None:
        """Change the interval a subscriber wants (the poller follows the shortest)."""
        if token in self._wanted:
            self._wanted[token] = interval

    def unsubscribe(self, token: object) -> None:
        self._wanted.pop(token, None)
        self._watches.pop(token, None)

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"flinkbatch-poller {self.name}")

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

    async def next_watched(self, token: object) -> Cycle:
        """:meth:`next_cycle` for a subscriber with a :class:`Watch`: the next cycle its watch does not absorb."""
        watch = self._watches[token]
        while True:
            future = watch.future = asyncio.get_running_loop().create_future()
            try:
                async with asyncio.timeout(self._stall_timeout()):
                    return await future
            except TimeoutError:
                self._ensure_running()  # as in next_cycle: never wait forever on a task that died
            finally:
                watch.future = None

    def _stall_timeout(self) -> float:
        return self._interval + self.timeout + 30.0

    def _publish(self, cycle: Cycle) -> None:
        self._latest = cycle
        published, self._published = self._published, asyncio.Event()
        published.set()
        for token, watch in self._watches.items():
            future = watch.future
            if future is None or future.done() or cycle.started < watch.since:
                continue  # not waiting now (it sees a later cycle), or the cycle may predate its item
            item = cycle.items.get(watch.key) if cycle.error is None else None
            interval = watch.waiting(item) if item is not None else None
            if interval is None:
                future.set_result(cycle)
            else:
                self._wanted[token] = interval

    async def _run(self) -> None:
        try:
            while True:
                if not self._wanted:
                    self._task = None  # same step as the check: a later subscribe starts a new task
                    return
                started = time.monotonic()
                try:
                    self.requests += 1
                    items = await self._bounded_fetch()
                    self._failing_since = None
                    self._publish(Cycle(items=items, started=started))
                except Exception as err:  # the cycle's error: each subscriber applies its own budget
                    self._failing_since = self._failing_since or started
                    transient = isinstance(err, ListingStalled) or self._is_transient(err)
                    self._publish(
                        Cycle(error=err, failing_since=self._failing_since, transient=transient, started=started)
                    )
                interval = self._interval = min(self._wanted.values(), default=0.0)
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
        except Exception as err:  # never leave waiters hanging: tell them, then let the next waiter restart us
            log.exception("poller for %s stopped", self.name)
            self._publish(
                Cycle(error=err, failing_since=self._failing_since or time.monotonic(), started=time.monotonic())
            )
        finally:
            if self._close is not None:
                await self._close()

    async def _bounded_fetch(self) -> dict[str, dict[str, Any]]:
        limit = self.timeout + CYCLE_GRACE
        deadline = asyncio.timeout(limit)
        try:
            async with deadline:
                return await self._fetch()
        except TimeoutError as err:
            if not deadline.expired():  # the fetch's own timeout error, with its own message
                raise
            raise ListingStalled(
                f"the listing of {self.name} did not finish within {limit:g}s: the control plane answers too "
                "slowly or not at all; the next cycle asks again"
            ) from err


class Subscription:
    """One trigger's membership in a :class:`SharedPoller` (``async with``), with its own error budget.

    :meth:`next` returns the next cycle that started after the subscription and is not a passing error:
    a transient error is waited out until it lasted ``budget`` seconds, then raised. A lasting error is
    returned: the trigger then asks with its own request, which ends in the precise error (or works).
    """

    def __init__(
        self,
        poller: SharedPoller,
        interval: float,
        budget: float,
        on_transient: Callable[[Exception], None] | None = None,
        watch: Watch | None = None,
    ) -> None:
        self.poller = poller
        self.interval = interval
        self.budget = budget
        self._on_transient = on_transient
        self._watch = watch
        self._token = object()
        self._since = 0.0

    async def __aenter__(self) -> Subscription:
        self._since = time.monotonic()
        if self._watch is not None:
            self._watch.since = self._since
        self.poller.subscribe(self._token, self.interval, self._watch)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.poller.unsubscribe(self._token)

    def want(self, interval: float) -> None:
        self.poller.want(self._token, interval)

    async def next(self) -> Cycle:
        """The next cycle that started after the subscription (with a :class:`Watch`: that the watch let through)."""
        while True:
            cycle = await (self.poller.next_watched(self._token) if self._watch else self.poller.next_cycle())
            if cycle.started < self._since:
                continue
            if cycle.error is None or not cycle.transient:
                return cycle
            failing = time.monotonic() - (cycle.failing_since or time.monotonic())
            if failing > self.budget:
                raise _gave_up(cycle.error, failing)
            if self._on_transient is not None:
                self._on_transient(cycle.error)


def _gave_up(err: Exception, failing: float) -> Exception:
    """The error a trigger ends with once its budget is spent: the last one, saying for how long it lasted."""
    if isinstance(err, FlinkRestError):
        gave_up = type(err)(f"{err} (still failing after {failing:.0f}s)", url=err.url, status=err.status)
        gave_up.__cause__ = err
        return gave_up
    return err


_POLLERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, SharedPoller]] = weakref.WeakKeyDictionary()


def shared_poller(key: str, make: Callable[[], P]) -> P:
    """The event loop's poller for ``key`` (control plane + credentials + what is listed), made on first use."""
    pollers = _POLLERS.setdefault(asyncio.get_running_loop(), {})
    poller = pollers.get(key)
    if poller is None:
        poller = pollers[key] = make()
    return poller  # type: ignore[return-value]


class ClusterPoller(SharedPoller):
    """Polls one Flink cluster's ``/jobs/overview`` for the triggers subscribed to it."""

    def __init__(self, settings: FlinkConnectionSettings) -> None:
        self.settings = settings
        # One attempt per cycle: the next cycle is the retry, and each trigger applies its own error budget.
        # Triggers borrow its connection pool (``client.sharing``) for their one detail call at the end.
        self.client = AsyncFlinkRestClient(settings, NO_RETRY)
        super().__init__(settings.rest_url, self._overview, close=self.client.aclose, timeout=settings.timeout)

    async def _overview(self) -> dict[str, dict[str, Any]]:
        overview = await self.client.call(calls.jobs_overview())
        return {str(job.get("jid")): job for job in overview.get("jobs", [])}


def poller_for(settings: FlinkConnectionSettings) -> ClusterPoller:
    """The shared poller of this event loop for this cluster + credentials."""
    return shared_poller(f"flink {settings.model_dump_json()}", lambda: ClusterPoller(settings))
