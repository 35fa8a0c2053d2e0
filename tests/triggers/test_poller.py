"""Coalesced polling: many triggers, one overview request per cluster per cycle, robust lifecycles."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Iterator
from typing import Any, cast

import pytest
from flink_replay import FlinkReplay, ReplayJob, start_replay

from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger
from airflow_provider_flinkbatch.triggers.poller import _POLLERS, adaptive_interval


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlinkReplay]:
    replay, server = start_replay()
    monkeypatch.setenv("AIRFLOW_CONN_REPLAY", json.dumps({"conn_type": "flink_batch", "host": replay.url}))
    yield replay
    server.shutdown()


def job_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:06x}".ljust(32, "0") for i in range(count)]


async def event_of(trigger: FlinkJobTrigger, timeout: float = 60) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        run = cast(AsyncGenerator[Any, None], trigger.run())
        try:
            async for event in run:
                return dict(event.payload)
        finally:
            await run.aclose()
        raise AssertionError("no event")

    return await asyncio.wait_for(first(), timeout)


def trigger(job_id: str, conn_id: str = "replay", **kwargs: Any) -> FlinkJobTrigger:
    return FlinkJobTrigger(job_id, conn_id, poll_interval=0.05, min_poll_interval=0.05, **kwargs)


def test_fifty_triggers_share_one_overview_request_per_cycle(cluster: FlinkReplay) -> None:
    ids = job_ids("a", 50)
    cluster.hold()  # all RUNNING until every trigger is waiting
    for i, job_id in enumerate(ids):  # then they end after 1..5 overview requests
        cluster.add(ReplayJob(job_id, started=time.time(), finish_after_polls=i % 5 + 1))

    async def scenario() -> tuple[list[dict[str, Any]], int, int]:
        waits = [
            asyncio.create_task(event_of(FlinkJobTrigger(job_id, "replay", poll_interval=0.5, min_poll_interval=0.5)))
            for job_id in ids
        ]
        while sum(p.subscribers for p in _POLLERS.get(asyncio.get_running_loop(), {}).values()) < len(ids):
            await asyncio.sleep(0.05)
        before = cluster.overview_requests
        while cluster.overview_requests < before + 3:  # three cycles with 50 running jobs
            await asyncio.sleep(0.05)
        running_details = cluster.detail_requests
        cluster.release()
        released = cluster.overview_requests
        events = await asyncio.gather(*waits)
        return events, running_details, cluster.overview_requests - released

    events, running_details, after_release = asyncio.run(scenario())
    assert {e["job_id"] for e in events} == set(ids) and {e["state"] for e in events} == {"FINISHED"}
    assert all(e["summary"] is None for e in events)  # the resumed worker reads the details
    assert running_details == 0  # while jobs run, the shared overview is the only request
    # the jobs end over 5 overviews: the 5th shows the last ends (a busy loop may run a cycle or two more before
    # the last trigger leaves), and the triggers need no other request
    assert 5 <= after_release < len(ids) // 5
    assert cluster.detail_requests == 0


def test_per_trigger_polling_is_the_baseline_it_replaces(cluster: FlinkReplay) -> None:
    ids = job_ids("b", 20)
    cluster.hold()
    for job_id in ids:
        cluster.add(ReplayJob(job_id, started=time.time(), finish_after_polls=0))

    async def scenario() -> list[dict[str, Any]]:
        waits = [asyncio.create_task(event_of(trigger(job_id, coalesce=False))) for job_id in ids]
        while cluster.detail_requests < 2 * len(ids):  # every running job costs a request per trigger per cycle
            await asyncio.sleep(0.05)
        cluster.release()
        return await asyncio.gather(*waits)

    assert {e["state"] for e in asyncio.run(scenario())} == {"FINISHED"}
    assert cluster.overview_requests == 0 and cluster.detail_requests >= 3 * len(ids)


def test_a_cluster_that_is_down_does_not_hold_up_another(monkeypatch: pytest.MonkeyPatch) -> None:
    healthy, healthy_server = start_replay()
    broken, broken_server = start_replay()
    broken.down = True
    for name, replay in (("healthy", healthy), ("broken", broken)):
        monkeypatch.setenv(f"AIRFLOW_CONN_{name.upper()}", json.dumps({"conn_type": "flink_batch", "host": replay.url}))
    ok_ids, lost_ids = job_ids("c", 5), job_ids("d", 5)
    for job_id in ok_ids:
        healthy.add(ReplayJob(job_id, started=time.time(), finish_after_polls=3))

    async def both() -> list[dict[str, Any]]:
        waits = [event_of(trigger(j, "healthy")) for j in ok_ids]
        waits += [event_of(trigger(j, "broken", transient_error_budget=1.0)) for j in lost_ids]
        return await asyncio.gather(*waits)

    try:
        events = asyncio.run(both())
    finally:
        healthy_server.shutdown()
        broken_server.shutdown()
    assert [e["state"] for e in events[:5]] == ["FINISHED"] * 5
    assert [e["status"] for e in events[5:]] == ["error"] * 5
    assert all("503" in e["message"] and "still failing after" in e["message"] for e in events[5:])


def test_triggers_that_come_and_go_never_hang(cluster: FlinkReplay) -> None:
    """A trigger arriving just as the poller stops (its last subscriber left) gets a fresh poller."""
    first, second, third = job_ids("e", 3)
    for job_id in (first, second, third):
        cluster.add(ReplayJob(job_id, started=time.time(), finish_after_polls=1))

    async def churn() -> list[dict[str, Any]]:
        done = await event_of(trigger(first))
        # the poller is winding down now; subscribe again in the same loop tick, then once it stopped
        again = asyncio.create_task(event_of(trigger(second), timeout=10))
        await asyncio.sleep(0.2)
        later = await event_of(trigger(third), timeout=10)
        return [done, await again, later]

    assert [e["state"] for e in asyncio.run(churn())] == ["FINISHED"] * 3
    # and a new event loop (a restarted triggerer) starts from scratch
    assert asyncio.run(event_of(trigger(first), timeout=10))["state"] == "FINISHED"


def test_a_job_the_overview_no_longer_lists_is_looked_up_directly(cluster: FlinkReplay) -> None:
    missing = job_ids("f", 1)[0]  # e.g. a restarted JobManager: not in the overview, unknown by id
    event = asyncio.run(event_of(trigger(missing)))
    assert event["status"] == "error"
    assert f"does not know job {missing}" in event["message"]


def test_interval_adapts_to_the_job_age() -> None:
    assert adaptive_interval(0, minimum=0.5, maximum=30, age_fraction=0.1) == 0.5  # just submitted
    assert adaptive_interval(60, minimum=0.5, maximum=30, age_fraction=0.1) == 6.0  # 10% of its age
    assert adaptive_interval(3600, minimum=0.5, maximum=30, age_fraction=0.1) == 30  # capped
