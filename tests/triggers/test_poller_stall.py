"""The shared poller recovers from a stalled request (issue 20, item 3).

One cluster's listing hangs (the server accepts the request and does not answer): that poller's cycle ends at
the deadline as a passing error, its subscribers get their next answer as soon as the server answers again,
and the subscribers of another cluster get theirs all along. The stalled cluster is the real local Flink
behind a proxy that holds its answer; the other is the same Flink, asked directly. A second test stalls a
request whose client has no deadline of its own (as a Kubernetes LIST can), so only the poller's own
deadline ends it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests
from counting_proxy import CountingProxy

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.triggers import poller as poller_module
from airflow_provider_flinkbatch.triggers.poller import ClusterPoller, Cycle, SharedPoller, Subscription

pytestmark = pytest.mark.integration


class Stall:
    """A proxy in front of the real cluster that holds every ``/jobs/overview`` answer while ``on``."""

    def __init__(self, flink: LocalClusterInfo) -> None:
        self.on = False
        self.proxy = CountingProxy(flink.rest_url, lose=self._lose).start()

    def _lose(self, method: str, path: str) -> str | None:
        return "delay:30" if self.on and path == "/jobs/overview" else None


@pytest.fixture
def stall(flink_cluster: LocalClusterInfo) -> Iterator[Stall]:
    stall = Stall(flink_cluster)
    yield stall
    stall.proxy.stop()


def test_a_stalled_cluster_recovers_and_does_not_hold_up_another(stall: Stall, flink_cluster: LocalClusterInfo) -> None:
    flink_jobs = {
        job["jid"] for job in requests.get(f"{flink_cluster.rest_url}/jobs/overview", timeout=10).json()["jobs"]
    }

    async def scenario() -> tuple[list[str], list[Cycle], Cycle]:
        stalled = ClusterPoller(FlinkConnectionSettings(rest_url=stall.proxy.url, timeout=1.0))
        direct = ClusterPoller(FlinkConnectionSettings(rest_url=flink_cluster.rest_url, timeout=1.0))
        passing: list[str] = []
        stall.on = True
        async with (
            Subscription(stalled, 0.2, budget=120, on_transient=lambda err: passing.append(str(err))) as waiting,
            Subscription(direct, 0.2, budget=120) as other,
        ):
            recovered = asyncio.create_task(waiting.next())
            answers: list[Cycle] = []
            while len(passing) < 2:  # two stalled cycles, each ended at the deadline
                answers.append(await asyncio.wait_for(other.next(), 10))
            stall.on = False
            return passing, answers, await asyncio.wait_for(recovered, 30)

    passing, answers, recovered = asyncio.run(scenario())
    assert passing[0] == (
        f"GET {stall.proxy.url}/jobs/overview did not finish within 1s (connect, headers and body together): the "
        "server answers too slowly; check the proxy or raise the connection's timeout"
    )
    assert len(answers) >= 2 and all(cycle.error is None for cycle in answers)  # the other cluster kept answering
    assert recovered.error is None and set(recovered.items) >= flink_jobs  # Flink's own list, once it answers


class Hold(BaseHTTPRequestHandler):
    """Accepts every request; answers ``{}`` only once ``release`` is set."""

    release = threading.Event()

    def do_GET(self) -> None:
        self.release.wait(60)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "15")
        self.end_headers()
        self.wfile.write(b'{"a": {"x": 1}}')

    def log_message(self, *args: Any) -> None:
        pass


def test_the_poller_ends_a_stalled_request_whose_client_has_no_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(poller_module, "CYCLE_GRACE", 0.5)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hold)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hold.release.clear()
    url = f"http://127.0.0.1:{server.server_address[1]}/"

    async def scenario() -> tuple[list[str], Cycle]:
        client = httpx.AsyncClient(timeout=None)  # no deadline at all: only the poller's own one

        async def fetch() -> dict[str, dict[str, Any]]:
            return dict((await client.get(url)).json())

        poller = SharedPoller("held-cluster", fetch, close=client.aclose, timeout=0.5)
        passing: list[str] = []
        async with Subscription(poller, 0.1, budget=60, on_transient=lambda err: passing.append(str(err))) as sub:
            answer = asyncio.create_task(sub.next())
            while len(passing) < 2:
                await asyncio.sleep(0.05)
            Hold.release.set()
            return passing, await asyncio.wait_for(answer, 30)

    try:
        passing, cycle = asyncio.run(scenario())
    finally:
        Hold.release.set()
        server.shutdown()
        server.server_close()
    assert passing[0] == (
        "the listing of held-cluster did not finish within 1s: the control plane answers too slowly or not at all; "
        "the next cycle asks again"
    )
    assert cycle.error is None and cycle.items == {"a": {"x": 1}}
