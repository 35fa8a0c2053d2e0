"""The ResourceManager REST client (sync and async) against the EMULATED RM's documented answers: RM HA
failover (standby redirects between two RMs) and SPNEGO refusals, which one MiniYARNCluster cannot show."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from yarn_rm_emulator import RmEmulator

from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkServerError, FlinkUnreachableError
from airflow_provider_flinkbatch.yarn import calls
from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient, YarnRmClient
from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings

FAST = RetryPolicy(budget=1.5, initial_delay=0.05, max_delay=0.2)


def rm_call(kind: str, urls: list[str], call: ApiCall[Any], retry: RetryPolicy = FAST) -> Any:
    settings = YarnConnectionSettings(rm_urls=urls, user="airflow", timeout=5)
    if kind == "sync":
        client = YarnRmClient(settings, retry)
        try:
            return client.call(call)
        finally:
            client.close()

    async def run() -> Any:
        aclient = AsyncYarnRmClient(settings, retry)
        try:
            return await aclient.call(call)
        finally:
            await aclient.aclose()

    return asyncio.run(run())


def dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_application_by_id_and_unknown_id(kind: str, rm: RmEmulator) -> None:
    app = rm.add_static("etl", ["flinkbatch"])
    got = rm_call(kind, [rm.url], calls.application(app.id))
    assert (got["id"], got["state"], got["finalStatus"]) == (app.id, "RUNNING", "UNDEFINED")
    missing = f"application_{rm.cluster_ts}_9999"
    with pytest.raises(FlinkNotFoundError, match=rf"NotFoundException: .*app with id: {missing} not found"):
        rm_call(kind, [rm.url], calls.application(missing))
    assert ("GET", f"/ws/v1/cluster/apps/{app.id}?user.name=airflow") in rm.requests


def test_tags_match_any_of_case_insensitively_and_none_is_empty(kind: str, rm: RmEmulator) -> None:
    a = rm.add_static("a", ["flinkbatch-id-abc", "Team-X"])
    b = rm.add_static("b", ["flinkbatch-id-def"])
    rm.add_static("c", ["other"])
    found = rm_call(kind, [rm.url], calls.applications_by_tags(["FLINKBATCH-ID-ABC", "flinkbatch-id-def"]))
    assert sorted(app["id"] for app in found) == sorted([a.id, b.id])
    assert rm_call(kind, [rm.url], calls.applications_by_tags(["team-x"]))[0]["id"] == a.id
    assert rm_call(kind, [rm.url], calls.applications_by_tags(["nothing-has-this"])) == []  # {"apps": null}


def test_kill_answers_202_then_killed_and_other_states_are_refused(kind: str, rm: RmEmulator) -> None:
    app = rm.add_static("k", [], state="RUNNING")
    assert rm_call(kind, [rm.url], calls.kill(app.id)) == "RUNNING"  # 202: the kill is under way
    app.state, app.final_status = "KILLED", "KILLED"
    assert rm_call(kind, [rm.url], calls.kill(app.id)) == "KILLED"  # 200 once done; killing again is harmless
    finish = ApiCall("PUT", f"/ws/v1/cluster/apps/{app.id}/state", str, json={"state": "FINISHED"})
    with pytest.raises(FlinkServerError, match=r"HTTP 400: BadRequestException: Only 'KILLED' is allowed"):
        rm_call(kind, [rm.url], finish)


def test_rm_ha_follows_the_standby_redirect_and_skips_a_dead_rm(kind: str, rm: RmEmulator) -> None:
    app = rm.add_static("ha", ["flinkbatch"])
    standby = RmEmulator(standby_of=rm)
    try:
        got = rm_call(kind, [dead_url(), standby.url, rm.url], calls.application(app.id))
        assert got["id"] == app.id
        assert standby.requests  # asked, answered 307 "This is standby RM", redirect followed
        # a kill through the standby is replayed on the active RM as a PUT
        assert rm_call(kind, [standby.url, rm.url], calls.kill(app.id)) == "RUNNING"
        assert app.kill_requested
    finally:
        standby.stop()


def test_a_standby_without_redirect_is_skipped(kind: str, rm: RmEmulator) -> None:
    app = rm.add_static("ha", ["flinkbatch"])
    lost = RmEmulator(standby_of=rm, standby_redirects=False)
    try:
        assert rm_call(kind, [lost.url, rm.url], calls.application(app.id))["id"] == app.id
        assert lost.requests
    finally:
        lost.stop()


def test_no_active_rm_fails_after_the_retry_budget_naming_every_rm(kind: str) -> None:
    urls = [dead_url(), dead_url()]
    with pytest.raises(FlinkUnreachableError, match="no active YARN ResourceManager answered") as err:
        rm_call(kind, urls, calls.application("application_1_0001"))
    assert all(url in str(err.value) for url in urls)


def test_bad_application_id_never_reaches_a_url() -> None:
    with pytest.raises(ValueError, match=r"not a YARN application id: '\.\./\.\./cluster'"):
        calls.application("../../cluster")
