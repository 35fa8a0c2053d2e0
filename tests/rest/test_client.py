"""REST client behaviour users notice: clear errors, retries only where safe, bounded waiting.

The sync (worker) and async (triggerer) clients share the error mapping and retry policy, so each
case runs against both over real HTTP.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
from conftest import call_with
from fake_http import Reply, ScriptedServer

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import (
    FlinkAuthError,
    FlinkBadResponseError,
    FlinkNotFoundError,
    FlinkServerError,
    FlinkUnreachableError,
)
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings

JOB = "0123456789abcdef0123456789abcdef"
FAST = RetryPolicy(budget=5.0, initial_delay=0.05, max_delay=0.2)


def settings_for(server: ScriptedServer, **kwargs: Any) -> FlinkConnectionSettings:
    return FlinkConnectionSettings(rest_url=server.url, **kwargs)


def test_transient_proxy_errors_are_retried_until_flink_answers(kind: str, scripted_server: ScriptedServer) -> None:
    path = f"/jobs/{JOB}"
    scripted_server.on(
        "GET",
        path,
        Reply(502, "<html><title>502 Bad Gateway</title></html>", "text/html"),
        Reply(503, "", "text/plain"),
        Reply.json({"jid": JOB, "state": "RUNNING"}),
    )
    assert call_with(kind, settings_for(scripted_server), calls.job_details(JOB))["state"] == "RUNNING"
    assert scripted_server.count("GET", path) == 3


def test_retry_budget_is_bounded_and_the_error_names_the_proxy_page(kind: str, scripted_server: ScriptedServer) -> None:
    scripted_server.on("GET", f"/jobs/{JOB}", Reply(502, "<html><title>502 Bad Gateway</title></html>", "text/html"))
    started = time.monotonic()
    with pytest.raises(FlinkUnreachableError, match=r"HTTP 502: an HTML page \(502 Bad Gateway\).*still failing"):
        call_with(kind, settings_for(scripted_server), calls.job_details(JOB), RetryPolicy(1.5, 0.05, 0.2))
    assert time.monotonic() - started < 30  # gives up instead of hanging


def test_job_submission_is_never_retried(kind: str, scripted_server: ScriptedServer) -> None:
    path = "/jars/runner.jar/run"
    scripted_server.on("POST", path, Reply(503, "<html><title>busy</title></html>", "text/html"))
    with pytest.raises(FlinkUnreachableError):
        call_with(kind, settings_for(scripted_server), calls.run_jar("runner.jar", {"entryClass": "X"}))
    assert scripted_server.count("POST", path) == 1  # a retry could start the job twice


@pytest.mark.parametrize(
    ("reply", "error", "message"),
    [
        (Reply(401, "<html><title>Sign in</title></html>", "text/html"), FlinkAuthError, "check the login/password"),
        (Reply.json({"errors": ["Job could not be found."]}, 404), FlinkNotFoundError, "Job could not be found"),
        (Reply(200, '{"jid": "01', "application/json"), FlinkBadResponseError, "not valid JSON"),
        (Reply(200, "<html><title>Login</title></html>", "text/html"), FlinkBadResponseError, "proxy login page"),
        (Reply.json({"jid": JOB}), FlinkBadResponseError, r"without the expected fields.*'state'"),
        (
            Reply.json({"errors": ["Internal server error.", "<Exception on server side: boom>"]}, 500),
            FlinkServerError,
            "boom",
        ),
    ],
)
def test_broken_answers_become_clear_errors_without_retrying(
    kind: str, scripted_server: ScriptedServer, reply: Reply, error: type[Exception], message: str
) -> None:
    scripted_server.on("GET", f"/jobs/{JOB}", reply)
    with pytest.raises(error, match=message):
        call_with(kind, settings_for(scripted_server), calls.job_details(JOB))
    assert scripted_server.count("GET", f"/jobs/{JOB}") == 1


def test_connection_refused_names_the_url_and_stops_within_the_budget(kind: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    settings = FlinkConnectionSettings(rest_url=f"http://127.0.0.1:{port}")
    with pytest.raises(FlinkUnreachableError, match=f"cannot connect to http://127.0.0.1:{port}/overview"):
        call_with(kind, settings, calls.cluster_overview(), RetryPolicy(1.0, 0.05, 0.2))


def test_credentials_are_sent_as_configured(kind: str, scripted_server: ScriptedServer) -> None:
    scripted_server.on("GET", "/overview", Reply.json({"taskmanagers": 1}))
    call_with(kind, settings_for(scripted_server, login="alice", password="pw"), calls.cluster_overview())
    call_with(kind, settings_for(scripted_server, bearer_token="tok"), calls.cluster_overview())
    basic, bearer = (r.headers.get("Authorization") for r in scripted_server.requests)
    assert basic == "Basic YWxpY2U6cHc="  # alice:pw
    assert bearer == "Bearer tok"


def test_cancel_accepts_flinks_empty_202(kind: str, scripted_server: ScriptedServer) -> None:
    scripted_server.on("PATCH", f"/jobs/{JOB}", Reply(202, "", "application/json"))
    call_with(kind, settings_for(scripted_server), calls.cancel_job(JOB))
    assert scripted_server.requests[0].path == f"/jobs/{JOB}?mode=cancel"
