"""YarnApplicationTrigger: survives a triggerer restart (serialized kwargs) and never hangs on a dead RM."""

from __future__ import annotations

import asyncio
import importlib
import socket
from typing import Any

import pytest
from conftest import make_request, slow_sql
from yarn_rm_emulator import RmEmulator

from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.targets.registry import create_target
from airflow_provider_flinkbatch.triggers.yarn import YarnApplicationTrigger

pytestmark = pytest.mark.integration


def first_event(trigger: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return asyncio.run(asyncio.wait_for(run(), timeout=120))


def test_trigger_rebuilt_from_its_serialized_form_follows_the_same_application(
    yarn_conn: str, yarn_rm: RmEmulator
) -> None:
    target = create_target("yarn", yarn_conn, {}, RetryPolicy(budget=20.0))
    handle = target.submit(make_request(slow_sql(30, 20), "yarn.restarted"))
    classpath, kwargs = YarnApplicationTrigger(
        application_id=str(handle.ref), job_id=handle.job_id, flink_conn_id=yarn_conn, poll_interval=0.3
    ).serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)  # what a restarted triggerer does

    event = first_event(rebuilt)

    assert (event["status"], event["job_id"], event["application_id"]) == ("terminal", handle.job_id, handle.ref)
    assert event["state"] == "FINISHED" and event["summary"]["name"] == "yarn.restarted"


@pytest.mark.parametrize("coalesce", [True, False], ids=["shared-listing", "own-requests"])
def test_unreachable_resourcemanager_ends_in_an_error_event(monkeypatch: pytest.MonkeyPatch, coalesce: bool) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setenv("AIRFLOW_CONN_YARN_DOWN", f'{{"conn_type": "flink_yarn", "host": "{dead}"}}')
    trigger = YarnApplicationTrigger(
        application_id="application_1_0001",
        job_id="a" * 32,
        flink_conn_id="yarn_down",
        transient_error_budget=1.0,
        coalesce=coalesce,
    )
    event = first_event(trigger)
    assert event["status"] == "error"
    assert f"no active YARN ResourceManager answered: cannot connect to {dead}" in event["message"]
