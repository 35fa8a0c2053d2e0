"""TLS to Flink REST: a self-signed certificate is refused with advice, trusted once its CA is configured."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import call_with
from fake_http import Reply, ScriptedServer, start_scripted_server

from airflow_provider_flinkbatch.local.tls import LocalTls
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkTlsError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[ScriptedServer, Path]]:
    tls = LocalTls.create(tmp_path / "tls")  # a private CA and a server certificate for 127.0.0.1
    ca = tls.ca
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.server_cert, tls.server_key)
    script, server = start_scripted_server(context)
    script.on("GET", "/overview", Reply.json({"taskmanagers": 1}))
    try:
        yield script, ca
    finally:
        server.shutdown()
        server.server_close()


def test_self_signed_certificate_is_refused_with_advice(kind: str, https_server: tuple[ScriptedServer, Path]) -> None:
    script, _ = https_server
    settings = FlinkConnectionSettings(rest_url=script.url)
    with pytest.raises(FlinkTlsError, match=r"TLS handshake with https://127\.0\.0\.1:.*Set ca_path in the connection"):
        call_with(kind, settings, calls.cluster_overview(), RetryPolicy(budget=2))


def test_trusted_once_the_ca_is_configured(kind: str, https_server: tuple[ScriptedServer, Path]) -> None:
    script, ca = https_server
    settings = FlinkConnectionSettings(rest_url=script.url, verify=str(ca))
    assert call_with(kind, settings, calls.cluster_overview())["taskmanagers"] == 1


def test_a_rotated_ca_bundle_is_read_again_by_the_shared_tls_context(tmp_path: Path) -> None:
    """The async clients share one TLS context per settings (building one costs ~50 ms of CPU: ``rest/tls.py``);
    a CA file replaced in place (a rotation) is read again without restarting the triggerer."""
    ca_file = tmp_path / "ca.pem"
    for generation in ("old", "new"):
        tls = LocalTls.create(tmp_path / generation)  # a new private CA and a server certificate signed by it
        ca_file.write_bytes(tls.ca.read_bytes())
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls.server_cert, tls.server_key)
        script, server = start_scripted_server(context)
        script.on("GET", "/overview", Reply.json({"taskmanagers": 1}))
        try:
            settings = FlinkConnectionSettings(rest_url=script.url, verify=str(ca_file))
            assert settings.ssl_context() is settings.ssl_context()  # one per process and settings
            assert call_with("async", settings, calls.cluster_overview(), RetryPolicy(budget=2))["taskmanagers"] == 1
        finally:
            server.shutdown()
            server.server_close()
