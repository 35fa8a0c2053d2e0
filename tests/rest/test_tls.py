"""TLS to Flink REST: a self-signed certificate is refused with advice, trusted once its CA is configured."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import call_with
from fake_http import Reply, ScriptedServer, start_scripted_server

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkTlsError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(
        subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name, signer: ec.EllipticCurvePrivateKey, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flinkbatch test CA")])
    ca_cert = cert("flinkbatch test CA", ca_key, ca_name, ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = cert("127.0.0.1", server_key, ca_name, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca_cert.public_bytes(pem))
    paths[1].write_bytes(server_cert.public_bytes(pem))
    paths[2].write_bytes(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[ScriptedServer, Path]]:
    ca, server_cert, server_key = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert, server_key)
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
