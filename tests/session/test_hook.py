"""FlinkRestHook against the real cluster: the UI's Test button, missing connections, secret masking."""

from __future__ import annotations

import json

import pytest

from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
from airflow_provider_flinkbatch.session.hook import FlinkRestHook, settings_from_connection


@pytest.mark.integration
def test_test_connection_reports_the_cluster(flink_conn: str) -> None:
    ok, message = FlinkRestHook(flink_conn).test_connection()
    assert ok, message
    assert message.startswith("Flink 2.3") and "1 TaskManager(s)" in message


def test_test_connection_explains_an_unreachable_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DOWN", json.dumps({"conn_type": "flink_batch", "host": "http://127.0.0.1:9"}))
    ok, message = FlinkRestHook("down").test_connection()
    assert not ok
    assert "cannot connect to http://127.0.0.1:9/overview" in message


def test_missing_connection_says_how_to_define_it() -> None:
    with pytest.raises(FlinkConnectionError, match=r"'nope' is not defined.*AIRFLOW_CONN_NOPE="):
        _ = FlinkRestHook("nope").settings


def test_secrets_are_registered_with_the_masker() -> None:
    from airflow.sdk import Connection
    from airflow.sdk._shared.secrets_masker import redact

    conn = Connection(
        conn_id="secure",
        conn_type="flink_batch",
        host="https://jm",
        login="svc",
        password="pw-9f8e7d",
        extra=json.dumps({"bearer_token": "tok-1a2b3c"}),
    )
    settings_from_connection(conn)
    text = "calling with pw-9f8e7d and tok-1a2b3c"
    assert redact(text) == "calling with *** and ***"
