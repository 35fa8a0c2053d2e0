"""The ResourceManager clients bound every answer as the Flink REST clients do (issue 20, item 3): a total
deadline, a body cap, no redirect followed. The faults come from a hostile local server (no real RM drips or
sends gigabytes); a standby RM's redirect to a server that is not one of the connection's RMs comes from the RM
HA emulator (one MiniYARNCluster has one RM). The real RM's ordinary answers still pass through these limits in
``test_client.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from fake_http import Hostile, serve_hostile
from yarn.test_client import FAST, rm_call
from yarn_rm_emulator import RmEmulator

from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkBadResponseError, FlinkServerError, FlinkUnreachableError
from airflow_provider_flinkbatch.yarn import calls
from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient, YarnRmClient
from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings


@pytest.fixture
def hostile() -> Iterator[str]:
    server, url = serve_hostile()
    Hostile.seen = []
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def _get(path: str) -> ApiCall[Any]:
    return ApiCall("GET", path, lambda body: body)


def _call(kind: str, url: str, call: ApiCall[Any], timeout: float) -> Any:
    settings = YarnConnectionSettings(rm_urls=[url], timeout=timeout)
    if kind == "sync":
        client = YarnRmClient(settings, RetryPolicy(budget=0.0))
        try:
            return client.call(call)
        finally:
            client.close()

    async def run() -> Any:
        aclient = AsyncYarnRmClient(settings, RetryPolicy(budget=0.0))
        try:
            return await aclient.call(call)
        finally:
            await aclient.aclose()

    return asyncio.run(run())


def test_a_dripping_resourcemanager_is_cut_off_at_the_total_deadline(kind: str, hostile: str) -> None:
    with pytest.raises(FlinkUnreachableError) as raised:
        _call(kind, hostile, _get("/drip"), timeout=1.0)  # 12 000 bytes at 20 bytes/s without the deadline
    assert str(raised.value).startswith(
        f"no active YARN ResourceManager answered: GET {hostile}/drip did not finish within 1s (connect, headers "
        "and body together): the server answers too slowly; check the proxy or raise the connection's timeout"
    )


@pytest.mark.parametrize("path", ["/huge", "/declared"])
def test_a_huge_resourcemanager_answer_fails_at_the_cap(kind: str, hostile: str, path: str) -> None:
    with pytest.raises(FlinkBadResponseError) as raised:
        _call(kind, hostile, _get(path), timeout=60.0)
    assert str(raised.value) == (
        f"GET {hostile}{path} answered with more than 32 MiB; ResourceManager answers are far smaller: is every "
        "URL of the flink_yarn connection a YARN ResourceManager (http://<rm>:8088)?"
    )


def test_emulator_a_standby_redirect_to_an_unconfigured_server_is_refused(kind: str, rm: RmEmulator) -> None:
    """emulator: the standby's 307 needs an RM HA pair. The kill (a PUT) is not replayed on the server the
    redirect names, because that server is not one of the connection's RMs."""
    app = rm.add_static("ha")
    standby = RmEmulator(standby_of=rm)
    try:
        with pytest.raises(FlinkServerError) as raised:
            rm_call(kind, [standby.url], calls.kill(app.id), retry=FAST)
        path = f"/ws/v1/cluster/apps/{app.id}/state"
        assert str(raised.value) == (
            f"PUT {standby.url}{path} answered HTTP 307, a redirect to {rm.url}{path}?user.name=airflow: the provider follows no "
            "redirects (one could carry the submission or the credentials to another server); if it is this "
            "cluster's active ResourceManager, add its URL to the flink_yarn connection's rm_urls"
        )
        assert rm.requests == [] and not app.kill_requested
        assert len(standby.requests) == 1  # refused at once: retrying cannot help
        # configured as an RM HA pair, the same kill reaches the active RM (the standby is skipped, not followed)
        assert rm_call(kind, [standby.url, rm.url], calls.kill(app.id)) == "RUNNING"
        assert app.kill_requested and rm.requests == [("PUT", path + "?user.name=airflow")]
    finally:
        standby.stop()
