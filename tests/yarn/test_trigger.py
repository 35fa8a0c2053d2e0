"""YarnApplicationTrigger: its on_kill kills the application on the REAL RM (and the NodeManager stops its
container), and it never hangs on a dead RM. Following a real Flink application with a trigger rebuilt
from its serialized form is in ``test_target.py``; shared polling in ``test_trigger_coalesced.py``."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from typing import Any

import pytest
from real_yarn import live_containers, rm_url, submit_unmanaged, wait_until_final

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.plugins.marked import cancel_stored_trigger
from airflow_provider_flinkbatch.triggers.yarn import YarnApplicationTrigger


def first_event(trigger: Any) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    return asyncio.run(asyncio.wait_for(run(), timeout=120))


def containers_within(cluster: LocalYarnCluster, app_id: str, want_any: bool, timeout: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        alive = live_containers(cluster, app_id)
        if bool(alive) == want_any or time.monotonic() > deadline:
            return alive
        time.sleep(0.5)


@pytest.mark.integration
@pytest.mark.parametrize("stopped_by", ["on-kill", "mark-listener"])
def test_on_kill_of_a_deferred_task_kills_its_application_and_container(
    local_yarn: LocalYarnCluster, monkeypatch: pytest.MonkeyPatch, stopped_by: str
) -> None:
    """``on_kill``: what the triggerer calls when the user stops the deferred task; ``mark-listener``: what the
    api-server's listener does for a task marked before a triggerer ran its trigger (from the stored trigger)."""
    info = local_yarn.info()
    assert info is not None
    rm, name = rm_url(local_yarn), f"trigger-kill-{uuid.uuid4().hex[:8]}"
    app_id = submit_unmanaged(rm, info.user, name, [name], managed=True)  # its AM container: `sleep 600`
    monkeypatch.setenv(
        "AIRFLOW_CONN_YARN_TRIGGER_KILL", json.dumps({"conn_type": "flink_yarn", "host": rm, "login": info.user})
    )
    trigger = YarnApplicationTrigger(app_id, "b" * 32, "yarn_trigger_kill", poll_interval=0.5)
    assert containers_within(local_yarn, app_id, want_any=True)  # a NodeManager runs the AM container

    if stopped_by == "on-kill":
        asyncio.run(trigger.on_kill())
    else:
        classpath, kwargs = trigger.serialize()
        cancel_stored_trigger(classpath, kwargs, "dag.task (run)")

    final = wait_until_final(local_yarn, app_id)
    assert (final["state"], final["finalStatus"]) == ("KILLED", "KILLED")
    assert containers_within(local_yarn, app_id, want_any=False) == []
    event = first_event(trigger)
    assert (event["status"], event["state"], event["application_id"]) == ("terminal", "CANCELED", app_id)
    assert (event["yarn_state"], event["yarn_final_status"]) == ("KILLED", "KILLED")


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
