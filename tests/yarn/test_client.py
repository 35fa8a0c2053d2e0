"""The ResourceManager REST client (sync and async): the RM's documented answers from the REAL RM of the
local YARN cluster; RM HA failover between two RMs from the emulator (one MiniYARNCluster has one RM)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any

import pytest
from real_yarn import apps, rm_url, submit_unmanaged, wait_for_app, wait_until_final
from yarn_rm_emulator import RmEmulator

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkServerError, FlinkUnreachableError
from airflow_provider_flinkbatch.yarn import calls
from airflow_provider_flinkbatch.yarn.client import AsyncYarnRmClient, YarnRmClient
from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings

FAST = RetryPolicy(budget=1.5, initial_delay=0.05, max_delay=0.2)


def rm_call(kind: str, urls: list[str], call: ApiCall[Any], user: str = "airflow", retry: RetryPolicy = FAST) -> Any:
    settings = YarnConnectionSettings(rm_urls=urls, user=user, timeout=5)
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


# ---------------------------------------------------------------------- the real RM


@pytest.fixture(scope="module")
def real_rm(local_yarn: LocalYarnCluster) -> tuple[str, str]:
    info = local_yarn.info()
    assert info is not None
    return rm_url(local_yarn), info.user


@pytest.fixture(scope="module")
def tagged(real_rm: tuple[str, str]) -> dict[str, str]:
    """Three applications waiting in ACCEPTED (no container), tagged ``<u>-a`` + ``Team-<u>``, ``<u>-b``, ``other-<u>``."""
    rm, user = real_rm
    unique = uuid.uuid4().hex[:8]
    tags = {"a": [f"{unique}-a", f"Team-{unique}"], "b": [f"{unique}-b"], "c": [f"other-{unique}"]}
    made = {key: submit_unmanaged(rm, user, f"client-{key}", value) for key, value in tags.items()}
    return made | {"unique": unique}


@pytest.mark.integration
def test_application_by_id_and_unknown_id(kind: str, real_rm: tuple[str, str], tagged: dict[str, str]) -> None:
    rm, user = real_rm
    got = rm_call(kind, [rm], calls.application(tagged["a"]), user)
    assert (got["id"], got["name"], got["finalStatus"]) == (tagged["a"], "client-a", "UNDEFINED")
    missing = f"application_{tagged['a'].split('_')[1]}_9999"
    with pytest.raises(FlinkNotFoundError, match=rf"NotFoundException: .*app with id: {missing} not found"):
        rm_call(kind, [rm], calls.application(missing), user)


@pytest.mark.integration
def test_tags_match_any_of_case_insensitively_and_none_is_empty(
    kind: str, real_rm: tuple[str, str], tagged: dict[str, str]
) -> None:
    rm, user = real_rm
    unique = tagged["unique"]
    found = rm_call(kind, [rm], calls.applications_by_tags([f"{unique.upper()}-A", f"{unique}-b"]), user)
    assert sorted(app["id"] for app in found) == sorted([tagged["a"], tagged["b"]])
    # YARN keeps tags lower-cased: the mixed-case tag is found by its lower-case form
    [team] = rm_call(kind, [rm], calls.applications_by_tags([f"team-{unique}"]), user)
    assert team["id"] == tagged["a"] and f"team-{unique}" in team["applicationTags"].split(",")
    assert rm_call(kind, [rm], calls.applications_by_tags([f"nothing-has-{unique}"]), user) == []  # {"apps": null}


@pytest.mark.integration
def test_kill_answers_while_under_way_then_killed_and_other_states_are_refused(
    kind: str, real_rm: tuple[str, str], local_yarn: LocalYarnCluster
) -> None:
    rm, user = real_rm
    name = f"client-kill-{uuid.uuid4().hex[:8]}"
    app_id = submit_unmanaged(rm, user, name, [name], managed=True)
    assert wait_for_app(local_yarn, name, {"ACCEPTED", "RUNNING"}, timeout=60)["id"] == app_id

    under_way = rm_call(kind, [rm], calls.kill(app_id), user)  # 202: the AM container is being stopped

    assert under_way != "KILLED"
    assert wait_until_final(local_yarn, app_id)["state"] == "KILLED"
    assert rm_call(kind, [rm], calls.kill(app_id), user) == "KILLED"  # 200 once done; killing again is harmless
    finish = ApiCall("PUT", f"/ws/v1/cluster/apps/{app_id}/state", str, json={"state": "FINISHED"})
    with pytest.raises(FlinkServerError, match=r"HTTP 400: BadRequestException: Only 'KILLED' is allowed"):
        rm_call(kind, [rm], finish, user)
    assert [a["state"] for a in apps(local_yarn) if a["id"] == app_id] == ["KILLED"]


# ---------------------------------------------------------------------- no RM at all


def test_no_active_rm_fails_after_the_retry_budget_naming_every_rm(kind: str) -> None:
    urls = [dead_url(), dead_url()]
    with pytest.raises(FlinkUnreachableError, match="no active YARN ResourceManager answered") as err:
        rm_call(kind, urls, calls.application("application_1_0001"))
    assert all(url in str(err.value) for url in urls)


def test_bad_application_id_never_reaches_a_url() -> None:
    with pytest.raises(ValueError, match=r"not a YARN application id: '\.\./\.\./cluster'"):
        calls.application("../../cluster")


# ---------------------------------------------------------------------- emulator: RM HA


def test_emulator_rm_ha_skips_the_standby_and_a_dead_rm_for_the_active_one(kind: str, rm: RmEmulator) -> None:
    """emulator: RM HA needs two ResourceManagers; the local MiniYARNCluster runs one, so no standby
    ever answers ``307 This is standby RM`` there."""
    app = rm.add_static("ha")
    standby = RmEmulator(standby_of=rm)
    try:
        got = rm_call(kind, [dead_url(), standby.url, rm.url], calls.application(app.id))
        assert got["id"] == app.id
        assert standby.requests  # asked, answered 307 "This is standby RM" to a configured RM: asked that one
        # a kill that meets the standby first reaches the active RM as a PUT
        assert rm_call(kind, [standby.url, rm.url], calls.kill(app.id)) == "RUNNING"
        assert app.kill_requested
    finally:
        standby.stop()


def test_emulator_a_standby_without_redirect_is_skipped(kind: str, rm: RmEmulator) -> None:
    """emulator: a standby RM that knows no active RM (HA election under way) needs an RM HA pair,
    which the single-RM MiniYARNCluster cannot form."""
    app = rm.add_static("ha")
    lost = RmEmulator(standby_of=rm, standby_redirects=False)
    try:
        assert rm_call(kind, [lost.url, rm.url], calls.application(app.id))["id"] == app.id
        assert lost.requests
    finally:
        lost.stop()
