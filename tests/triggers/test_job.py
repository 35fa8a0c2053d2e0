"""FlinkJobTrigger: serializes like Airflow stores it, runs to an event on real Flink, cancels on kill."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from conftest import make_request, slow_sql
from counting_proxy import CountingProxy
from fake_http import Reply, ScriptedServer

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobHandle
from airflow_provider_flinkbatch.targets.worker_poll import ended_summary
from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

QUICK_SQL = """
CREATE TEMPORARY TABLE sink (x INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT * FROM (VALUES (1), (2), (3)) AS t(x);
"""


def submit(conn_id: str, sql: str, name: str) -> tuple[SessionTarget, JobHandle]:
    target = SessionTarget(FlinkRestHook(conn_id).client, conn_id)
    request = make_request(sql, name)
    return target, target.submit(request)


async def first_event(trigger: FlinkJobTrigger, timeout: float = 120) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("trigger ended without an event")

    return await asyncio.wait_for(first(), timeout)


def test_serialize_round_trip_through_airflows_trigger_table(airflow_db: None) -> None:
    from airflow._shared.module_loading import import_string  # what the triggerer uses
    from airflow.models.trigger import Trigger

    trigger = FlinkJobTrigger(
        job_id="0123456789abcdef0123456789abcdef",
        flink_conn_id="prod_flink",
        poll_interval=2.5,
        transient_error_budget=60,
        cancel_on_kill=False,
    )
    row = Trigger.from_object(trigger)  # what Airflow writes when the task defers (kwargs encrypted)
    restored = import_string(row.classpath)(**row.kwargs)  # what the triggerer does
    assert isinstance(restored, FlinkJobTrigger)
    assert restored.serialize() == trigger.serialize()
    assert row.classpath == "airflow_provider_flinkbatch.triggers.job.FlinkJobTrigger"


@pytest.mark.integration
def test_runs_until_the_job_finishes_and_the_resumed_task_reads_its_summary(
    flink_cluster: LocalClusterInfo, flink_conn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = CountingProxy(flink_cluster.rest_url).start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_COUNTED", f'{{"conn_type": "flink_batch", "host": "{proxy.url}"}}')
        _, handle = submit("counted", QUICK_SQL, "it.trigger.quick")
        event = asyncio.run(first_event(FlinkJobTrigger(handle.job_id, "counted", poll_interval=0.3)))
        asked = [path for _, method, path in proxy.seen if method == "GET"]
    finally:
        proxy.stop()
    assert event["status"] == "terminal" and event["state"] == "FINISHED"
    # the shared overview showed the end: the triggerer read no details, the worker does (one request there)
    assert event["summary"] is None and f"/jobs/{handle.job_id}" not in asked, asked
    worker = SessionTarget(FlinkRestHook(flink_conn).client, flink_conn)  # what execute_complete reads through
    summary = ended_summary(event, lambda: worker.job_details(handle))
    assert summary["job_id"] == handle.job_id and summary["name"] == "it.trigger.quick"
    assert summary["state"] == "FINISHED" and summary["vertices_finished"] >= 1


@pytest.mark.integration
def test_without_sharing_the_trigger_reads_the_details_and_its_event_carries_the_summary(flink_conn: str) -> None:
    _, handle = submit(flink_conn, QUICK_SQL, "it.trigger.own-polls")
    trigger = FlinkJobTrigger(handle.job_id, flink_conn, poll_interval=0.3, coalesce=False)
    event = asyncio.run(first_event(trigger))
    assert event["status"] == "terminal" and event["state"] == "FINISHED"
    assert event["summary"]["job_id"] == handle.job_id and event["summary"]["name"] == "it.trigger.own-polls"


@pytest.mark.integration
def test_on_kill_cancels_the_running_job(flink_conn: str) -> None:
    target, handle = submit(flink_conn, slow_sql(1_000_000), "it.trigger.killed")
    trigger = FlinkJobTrigger(handle.job_id, flink_conn, poll_interval=0.3)

    async def scenario() -> dict[str, Any]:
        waiting = asyncio.create_task(first_event(trigger))
        for _ in range(100):
            if target.job_details(handle)["state"] == "RUNNING":
                break
            await asyncio.sleep(0.2)
        assert not waiting.done()  # still waiting on the running job
        await trigger.on_kill()  # what Airflow calls when the user marks the deferred task failed
        return await waiting

    event = asyncio.run(scenario())
    assert event["state"] == "CANCELED"
    assert target.job_details(handle)["state"] == "CANCELED"


def test_rides_out_proxy_errors_while_waiting(scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    job = "fedcba9876543210fedcba9876543210"
    monkeypatch.setenv("AIRFLOW_CONN_FLAKY", f'{{"conn_type": "flink_batch", "host": "{scripted_server.url}"}}')
    listed = {"jid": job, "name": "n", "start-time": 1, "state": "RUNNING"}
    scripted_server.on(
        "GET",
        "/jobs/overview",
        Reply.json({"jobs": [listed]}),
        Reply(502, "<html><title>Bad Gateway</title></html>", "text/html"),
        Reply(504, "", "text/plain"),
        Reply.json({"jobs": [{**listed, "state": "FINISHED"}]}),
    )
    scripted_server.on(
        "GET", f"/jobs/{job}", Reply.json({"jid": job, "name": "n", "state": "FINISHED", "vertices": []})
    )
    event = asyncio.run(first_event(FlinkJobTrigger(job, "flaky", poll_interval=0.05, transient_error_budget=20)))
    assert event["status"] == "terminal" and event["state"] == "FINISHED"
    assert scripted_server.count("GET", "/jobs/overview") >= 4  # through both errors (one more may race the end)
    assert (
        scripted_server.count("GET", f"/jobs/{job}") == 0
    )  # the overview's end is the event: details are the worker's


@pytest.mark.parametrize(
    ("conn_id", "message"),
    [
        ("missing", "connection 'missing' is not defined"),
        ("flaky", "the JobManager (http://127.0.0.1:"),
    ],
)
def test_unwatchable_jobs_end_in_an_error_event_not_a_hang(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, conn_id: str, message: str
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLAKY", f'{{"conn_type": "flink_batch", "host": "{scripted_server.url}"}}')
    event = asyncio.run(first_event(FlinkJobTrigger("fedcba9876543210fedcba9876543210", conn_id, poll_interval=0.05)))
    assert event["status"] == "error"
    assert message in event["message"]
