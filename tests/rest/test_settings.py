"""Connection parsing: every way users fill the ``flink_batch`` form gives the right REST settings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection

from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
from airflow_provider_flinkbatch.session.hook import settings_from_connection


def conn(**fields: Any) -> Connection:
    extra = fields.pop("extra", None)
    return Connection(
        conn_id="flink", conn_type=str(fields.pop("conn_type", "flink_batch")), extra=json.dumps(extra or {}), **fields
    )


def test_full_url_in_host() -> None:
    settings = settings_from_connection(conn(host="https://flink.example.com:8443/prefix/"))
    assert settings.rest_url == "https://flink.example.com:8443/prefix"
    assert settings.ui_url == settings.rest_url
    assert settings.verify is True


def test_bare_host_with_port_and_schema() -> None:
    assert settings_from_connection(conn(host="jobmanager", port=8081)).rest_url == "http://jobmanager:8081"
    assert settings_from_connection(conn(host="jm", port=443, schema="https")).rest_url == "https://jm:443"


def test_basic_auth_and_bearer_token() -> None:
    basic = settings_from_connection(conn(host="http://jm:8081", login="alice", password="s3cret"))
    assert basic.basic_auth() == ("alice", "s3cret")
    assert basic.auth_headers() == {}
    token = settings_from_connection(conn(host="http://jm:8081", extra={"bearer_token": "tok-123"}))
    assert token.auth_headers() == {"Authorization": "Bearer tok-123"}
    assert token.basic_auth() is None
    assert "tok-123" not in repr(token) and "s3cret" not in repr(basic)


def test_tls_options_ca_path_wins_over_verify_flag() -> None:
    assert settings_from_connection(conn(host="https://jm", extra={"verify_ssl": "false"})).verify is False
    assert settings_from_connection(conn(host="https://jm", extra={"verify_ssl": False})).verify is False
    with_ca = settings_from_connection(conn(host="https://jm", extra={"verify_ssl": False, "ca_path": "/etc/ca.pem"}))
    assert with_ca.verify == "/etc/ca.pem"


def test_ui_urls_timeout_and_form_prefixed_extras() -> None:
    settings = settings_from_connection(
        conn(
            host="http://jm:8081",
            extra={
                "extra__flink_batch__web_ui_url": "https://flink.example.com/",
                "history_server_url": "http://hs:8082",
                "timeout": "12.5",
                "ca_path": "",
            },
        )
    )
    assert settings.ui_url == "https://flink.example.com"
    assert settings.history_server_url == "http://hs:8082"
    assert settings.timeout == 12.5


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"host": None}, "has no host; set it to the Flink REST URL"),
        ({"host": "http://jm", "conn_type": "http"}, "has type 'http'; use type 'flink_batch'"),
        (
            {"host": "http://jm", "extra": {"histroy_server_url": "x"}},
            r"unknown extra field\(s\) \['histroy_server_url'\]",
        ),
        ({"host": "http://jm", "extra": {"verify_ssl": "maybe"}}, "verify_ssl must be true or false"),
        ({"host": "ftp://jm"}, "http"),
        ({"host": "http://jm", "extra": {"timeout": "soon"}}, "timeout"),
    ],
)
def test_bad_connections_name_the_field_and_the_fix(fields: dict[str, object], message: str) -> None:
    with pytest.raises(FlinkConnectionError, match=message):
        settings_from_connection(conn(**fields))


TIMEOUT = "connection 'flink' is invalid: timeout: expected a positive, finite number of seconds, got "


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        *(({"extra": {"timeout": value}}, f"{TIMEOUT}{value!r}") for value in ("inf", "nan", 0, -5, True, "soon")),
        ({"extra": {"verify_ssl": "yes"}}, "connection 'flink': extra verify_ssl must be true or false, got 'yes'"),
        ({"extra": {"verify_ssl": 1}}, "connection 'flink': extra verify_ssl must be true or false, got 1"),
        (
            {"host": "http://jm:99999"},
            "connection 'flink' is invalid: rest_url has an invalid port (give 1-65535, e.g. "
            "http://flink-jobmanager:8081), got 'http://jm:99999'",
        ),
        (
            {"host": "http://jm:80x"},
            "connection 'flink' is invalid: rest_url has an invalid port (give 1-65535, e.g. "
            "http://flink-jobmanager:8081), got 'http://jm:80x'",
        ),
        (
            {"host": "http://jm:8081\nINFO - forged"},
            "connection 'flink' is invalid: rest_url must be one http(s) URL without spaces or control characters, "
            "got 'http://jm:8081\\nINFO - forged'",
        ),
        (
            {"host": "http://jm:8081", "extra": {"history_server_url": "jm:8082"}},
            "connection 'flink' is invalid: history_server_url must be an http(s) URL like "
            "http://flink-jobmanager:8081, got 'jm:8082'",
        ),
    ],
)
def test_values_are_validated_at_the_edge(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(FlinkConnectionError) as raised:
        settings_from_connection(conn(**{"host": "http://jm:8081", **fields}))
    assert str(raised.value) == message
    assert raised.value.__cause__ is None  # no chained pydantic error printing the input


def test_credentials_in_the_url_move_to_login_and_password_and_never_show() -> None:
    settings = settings_from_connection(
        conn(host="https://svc:p%40ss-9z8y@jm:8443/", extra={"web_ui_url": "https://u:ui-pw@ui:443"})
    )
    assert (settings.rest_url, settings.ui_url) == ("https://jm:8443", "https://ui:443")
    assert settings.basic_auth() == ("svc", "p@ss-9z8y")
    assert "p@ss-9z8y" in settings.secrets()  # registered with the masker
    with pytest.raises(FlinkConnectionError) as raised:
        settings_from_connection(conn(host="http://svc:hidden-pw@jm:99999"))
    assert "hidden-pw" not in str(raised.value)
    assert "got 'http://jm:99999'" in str(raised.value)
