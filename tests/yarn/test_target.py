"""The YARN target end to end against the emulated RM: the fake CLI deploys, the real Flink runs the job."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import make_request
from yarn_rm_emulator import RmEmulator, recorded

from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.targets.base import JobHandle, SubmissionRejected, WaitOptions
from airflow_provider_flinkbatch.targets.registry import create_target
from airflow_provider_flinkbatch.triggers.yarn import YarnApplicationTrigger
from airflow_provider_flinkbatch.yarn.target import YarnTarget

pytestmark = pytest.mark.integration

GOOD_SQL = """
CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '25');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM src;
"""
BAD_COLUMN_SQL = GOOD_SQL.replace("SELECT id FROM src", "SELECT idd FROM src")
BAD_CAST_SQL = """
CREATE TEMPORARY TABLE src (s STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '5', 'fields.s.length' = '3');
CREATE TEMPORARY TABLE sink (n INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT CAST(s AS INT) FROM src;
"""
WAIT = WaitOptions(poll_interval=0.3, transient_error_budget=20.0)


def yarn_target(conn_id: str, **options: Any) -> YarnTarget:
    target = create_target("yarn", conn_id, options, RetryPolicy(budget=20.0))
    assert isinstance(target, YarnTarget)
    return target


def follow(trigger: YarnApplicationTrigger) -> dict[str, Any]:
    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout=120))


def wait_for_app(rm: RmEmulator, app_id: str, states: set[str]) -> str:
    for _ in range(600):
        if rm.apps[app_id].state in states:
            return rm.apps[app_id].state
        time.sleep(0.1)
    raise AssertionError(f"{app_id} stayed {rm.apps[app_id].state}")


def test_submit_follow_and_find_again(yarn_conn: str, yarn_rm: RmEmulator, cli_record: Path) -> None:
    target = yarn_target(yarn_conn, queue="etl", jobmanager_memory="1g")
    request = make_request(GOOD_SQL, "yarn.good", **{"parallelism.default": "1"})

    handle = target.submit(request)

    assert handle.job_id == request.job_id and handle.ref and handle.ref.startswith("application_")
    call = recorded(cli_record)[0]
    assert call["argv"][:4] == ["run", "-t", "yarn-application", "-d"]
    assert f"$internal.pipeline.job-id={request.job_id}" in call["argv"]
    assert call["env"]["HADOOP_CONF_DIR"].endswith("hadoop-conf")
    app = yarn_rm.apps[handle.ref]
    assert (app.name, app.queue, app.job_id) == ("yarn.good", "etl", request.job_id)
    assert f"flinkbatch-id-{request.identity.key}" in app.tags

    event = follow(target.trigger(handle, WAIT))  # type: ignore[arg-type]
    print("\nevent:", {k: v for k, v in event.items() if k != "summary"})
    assert (event["status"], event["state"], event["application_id"]) == ("terminal", "FINISHED", handle.ref)
    summary = event["summary"]  # Flink's own job details (through the proxy or from the HistoryServer)
    assert (summary["name"], summary["vertices_total"]) == ("yarn.good", summary["vertices_finished"])
    assert event["source"] in ("jobmanager", "historyserver") and summary["vertices_total"] >= 1

    wait_for_app(yarn_rm, handle.ref, {"FINISHED"})
    details = target.job_details(target.handle_for(request.job_id))
    assert (details["jid"], details["state"]) == (request.job_id, "FINISHED")
    existing = target.find_existing(request.identity)
    assert [(e.attempt, e.state, e.fingerprint, e.handle.ref) for e in existing] == [
        (0, "FINISHED", request.identity.fingerprint, handle.ref)
    ]
    links = target.link_info(handle)
    assert links["yarn_app_url"] == f"{yarn_rm.url}/cluster/app/{handle.ref}"
    assert links["web_ui_url"].endswith(f"/proxy/{handle.ref}") or "/cluster/app/" in links["web_ui_url"]


def test_application_id_falls_back_to_the_job_tag_when_the_cli_prints_none(
    yarn_conn: str, yarn_rm: RmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FLINK_MODE", "quiet")
    target = yarn_target(yarn_conn)
    request = make_request(GOOD_SQL, "yarn.quiet")
    handle = target.submit(request)
    assert handle.ref in yarn_rm.apps and yarn_rm.apps[handle.ref].job_id == request.job_id
    target.cancel(target.handle_for(request.job_id))  # what the operator's on_kill does with a stored job id
    assert wait_for_app(yarn_rm, handle.ref, {"KILLED"}) == "KILLED"


def test_cli_failure_without_an_application_is_reported_with_its_output(
    yarn_conn: str, yarn_rm: RmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FLINK_MODE", "fail")
    with pytest.raises(SubmissionRejected, match=r"(?s)exit code 1.*Could not deploy Yarn job cluster"):
        yarn_target(yarn_conn).submit(make_request(GOOD_SQL, "yarn.fail"))
    assert not yarn_rm.apps


def test_sql_error_fails_the_application_and_the_diagnosis_has_both_sides(yarn_conn: str, yarn_rm: RmEmulator) -> None:
    target = yarn_target(yarn_conn)
    request = make_request(BAD_COLUMN_SQL, "yarn.bad_column")
    handle = target.submit(request)

    event = follow(target.trigger(handle, WAIT))  # type: ignore[arg-type]

    assert (event["state"], event["yarn_state"], event["source"]) == ("FAILED", "FAILED", "yarn")
    diagnosis = target.diagnose(handle, event["state"], None)
    print("\n" + diagnosis.describe())
    assert diagnosis.category == "sql_error" and not diagnosis.retryable
    assert "Column 'idd' not found" in (diagnosis.message or "")
    assert f"YARN application {handle.ref} FAILED/FAILED" in diagnosis.advice


def test_runtime_failure_reports_flinks_root_cause_and_yarn_diagnostics(yarn_conn: str, yarn_rm: RmEmulator) -> None:
    target = yarn_target(yarn_conn)
    request = make_request(BAD_CAST_SQL, "yarn.bad_cast", **{"table.exec.legacy-cast-behaviour": "DISABLED"})
    handle = target.submit(request)

    event = follow(target.trigger(handle, WAIT))  # type: ignore[arg-type]

    assert event["state"] == "FAILED"
    wait_for_app(yarn_rm, str(handle.ref), {"FINISHED", "FAILED"})
    diagnosis = target.diagnose(handle, "FAILED", None)
    print("\n" + diagnosis.describe())
    assert diagnosis.source in ("jobmanager", "historyserver")
    assert diagnosis.category == "user_data_error"
    assert "NumberFormatException" in (diagnosis.exception_class or "")
    assert "FINISHED/FAILED: Flink job" in diagnosis.advice


def test_on_kill_kills_the_application(yarn_conn: str, yarn_rm: RmEmulator) -> None:
    from conftest import slow_sql

    target = yarn_target(yarn_conn)
    handle = target.submit(make_request(slow_sql(2000, 20), "yarn.killed"))
    assert handle.ref
    wait_for_app(yarn_rm, handle.ref, {"RUNNING"})
    trigger = target.trigger(handle, WAIT)
    asyncio.run(trigger.on_kill())
    assert wait_for_app(yarn_rm, handle.ref, {"KILLED"}) == "KILLED"
    event = follow(trigger)  # type: ignore[arg-type]
    assert (event["state"], event["yarn_final_status"]) == ("CANCELED", "KILLED")


def test_an_unknown_job_has_no_application(yarn_conn: str) -> None:
    target = yarn_target(yarn_conn)
    handle = target.handle_for("f" * 32)
    assert handle == JobHandle(target="yarn", conn_id=yarn_conn, job_id="f" * 32, ref=None)
    from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError

    with pytest.raises(FlinkNotFoundError, match="no YARN application carries tag flinkbatch-job-f"):
        target.job_details(handle)
