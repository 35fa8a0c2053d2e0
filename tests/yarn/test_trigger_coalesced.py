"""YarnApplicationTrigger's shared polling on the REAL ResourceManager (MiniYARNCluster).

Several deferred triggers of one event loop share one ``GET /ws/v1/cluster/apps`` per cycle; an
application that ended, one that does not exist and a refused listing give each trigger the outcome it
gets with its own requests (``coalesce=False``). Requests are counted by a proxy in front of the RM;
the applications are real ones (tagged, waiting in ACCEPTED for an unmanaged ApplicationMaster).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from counting_proxy import CountingProxy
from real_yarn import kill, rm_url, submit_unmanaged, wait_until_final

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.triggers.yarn import YarnApplicationTrigger
from airflow_provider_flinkbatch.yarn.calls import APPS
from airflow_provider_flinkbatch.yarn.tags import PROVIDER_TAG

pytestmark = pytest.mark.integration
CONN_ID = "yarn_counted"


@pytest.fixture
def counted_rm(local_yarn: LocalYarnCluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingProxy]:
    """A ``flink_yarn`` connection whose RM URL is a counting proxy in front of the real RM."""
    info = local_yarn.info()
    assert info is not None
    proxy = CountingProxy(info.rm_url).start()
    conn = {"conn_type": "flink_yarn", "host": proxy.url, "login": info.user}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    try:
        yield proxy
    finally:
        proxy.stop()


def trigger(app_id: str, index: int, coalesce: bool = True) -> YarnApplicationTrigger:
    return YarnApplicationTrigger(
        app_id, f"{index:032x}", CONN_ID, coalesce=coalesce, poll_interval=0.5, transient_error_budget=20.0
    )


async def event_of(trigger: YarnApplicationTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("no event")


def test_waiting_triggers_share_one_rm_listing_per_cycle_and_each_sees_its_own_end(
    local_yarn: LocalYarnCluster, counted_rm: CountingProxy
) -> None:
    rm, user = rm_url(local_yarn), local_yarn.info().user  # type: ignore[union-attr]
    ids = [submit_unmanaged(rm, user, f"coalesced-{i}", [PROVIDER_TAG, "flinkbatch-test-coalesced"]) for i in range(6)]

    async def scenario() -> tuple[list[dict[str, Any]], int, int]:
        waits = [asyncio.create_task(event_of(trigger(app_id, i))) for i, app_id in enumerate(ids)]
        await asyncio.sleep(1.0)  # every trigger subscribed
        since = time.monotonic()
        while counted_rm.count("GET", APPS, since) < 4:  # four cycles with six waiting applications
            await asyncio.sleep(0.1)
        until = time.monotonic()
        listings, own = counted_rm.count("GET", APPS, since, until), counted_rm.count("GET", f"{APPS}/", since, until)
        for app_id in ids:  # the applications end, one after the other
            await asyncio.to_thread(kill, rm, user, app_id)
            await asyncio.sleep(0.3)
        return list(await asyncio.wait_for(asyncio.gather(*waits), 120)), listings, own

    events, listings, own_while_waiting = asyncio.run(scenario())

    assert listings >= 4 and own_while_waiting == 0  # one RM request per cycle for the six triggers
    for app_id, event in zip(ids, events, strict=True):
        real = wait_until_final(local_yarn, app_id)
        assert (event["status"], event["application_id"], event["state"]) == ("terminal", app_id, "CANCELED")
        assert (
            (event["yarn_state"], event["yarn_final_status"])
            == (real["state"], real["finalStatus"])
            == (
                "KILLED",
                "KILLED",
            )
        )
        assert event["diagnostics"] == real["diagnostics"]
        # the end is read once with the application's own GET (the listing holds only waiting applications)
        assert counted_rm.count("GET", f"{APPS}/{app_id}") == 1


def test_ended_missing_and_refused_give_the_outcome_of_per_application_requests(
    local_yarn: LocalYarnCluster, counted_rm: CountingProxy
) -> None:
    rm, user = rm_url(local_yarn), local_yarn.info().user  # type: ignore[union-attr]
    ended = submit_unmanaged(rm, user, "coalesced-ended", [PROVIDER_TAG])
    kill(rm, user, ended)
    wait_until_final(local_yarn, ended)
    cluster_id = ended.split("_")[1]
    missing = f"application_{cluster_id}_9999"

    def outcomes(coalesce: bool) -> list[dict[str, Any]]:
        async def both() -> list[dict[str, Any]]:
            return list(
                await asyncio.gather(event_of(trigger(ended, 1, coalesce)), event_of(trigger(missing, 2, coalesce)))
            )

        return asyncio.run(asyncio.wait_for(both(), 120))

    own = outcomes(coalesce=False)
    shared = outcomes(coalesce=True)
    counted_rm.refuse[("GET", APPS)] = 400  # the shared listing fails for good: each trigger asks on its own
    refused = outcomes(coalesce=True)

    assert own[0]["status"] == "terminal" and own[0]["state"] == "CANCELED" and own[0]["yarn_state"] == "KILLED"
    assert own[1]["status"] == "error" and "not found (HTTP 404)" in own[1]["message"] and missing in own[1]["message"]
    assert shared == own
    assert refused == own
    assert counted_rm.count("GET", APPS) >= 2  # the shared runs did list (and the refused one was refused)
