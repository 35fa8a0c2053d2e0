"""Certificates for a local cluster whose REST API requires mutual TLS (``security.ssl.rest.*``).

Generates a private CA, a server certificate for 127.0.0.1/localhost and a client certificate, as PEM
files for Airflow's side and PKCS12 key/trust stores for Flink's side (the truststore is written by the
JDK's ``keytool`` so Java recognises the trusted CA entry). Used by tests and ``flinkbatch local up --tls``.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class LocalTls:
    """The files of one generated TLS setup, under ``folder``."""

    folder: Path
    password: str

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    @property
    def client_cert(self) -> Path:
        return self.folder / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.folder / "client.key"

    def flink_options(self) -> dict[str, str]:
        """REST over TLS with client authentication; RPC between JobManager and TaskManager stays plain."""
        return {
            "security.ssl.rest.enabled": "true",
            "security.ssl.rest.authentication-enabled": "true",
            "security.ssl.rest.keystore": str(self.folder / "server.p12"),
            "security.ssl.rest.keystore-password": self.password,
            "security.ssl.rest.key-password": self.password,
            "security.ssl.rest.truststore": str(self.folder / "truststore.p12"),
            "security.ssl.rest.truststore-password": self.password,
        }

    def connection_extra(self) -> dict[str, str]:
        return {"ca_path": str(self.ca), "client_cert": str(self.client_cert), "client_key": str(self.client_key)}

    @classmethod
    def create(cls, folder: Path) -> LocalTls:
        """Generate (or reuse) the CA, server and client certificates in ``folder``."""
        password_file = folder / "password"
        if password_file.exists() and (folder / "truststore.p12").exists():
            return cls(folder, password_file.read_text())
        folder.mkdir(parents=True, exist_ok=True)
        tls = cls(folder, secrets.token_hex(12))
        tls._generate()
        password_file.write_text(tls.password)
        password_file.chmod(0o600)
        return tls

    def _generate(self) -> None:
        now = datetime.datetime.now(datetime.UTC)

        def name(common: str) -> x509.Name:
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

        def issue(subject: str, key: Any, issuer_key: Any, issuer: x509.Name, *, ca: bool, usage: Any = None) -> Any:
            builder = (
                x509.CertificateBuilder()
                .subject_name(name(subject))
                .issuer_name(issuer)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            )
            if usage is not None:
                builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            if usage == ExtendedKeyUsageOID.SERVER_AUTH:
                alt = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
            return builder.sign(issuer_key, hashes.SHA256())

        def new_key() -> Any:
            return rsa.generate_private_key(public_exponent=65537, key_size=2048)

        ca_key = new_key()
        ca_cert = issue("flinkbatch local CA", ca_key, ca_key, name("flinkbatch local CA"), ca=True)
        server_key, client_key = new_key(), new_key()
        server_cert = issue(
            "127.0.0.1", server_key, ca_key, ca_cert.subject, ca=False, usage=ExtendedKeyUsageOID.SERVER_AUTH
        )
        client_cert = issue(
            "airflow", client_key, ca_key, ca_cert.subject, ca=False, usage=ExtendedKeyUsageOID.CLIENT_AUTH
        )

        pem = serialization.Encoding.PEM
        no_password = serialization.NoEncryption()
        self.ca.write_bytes(ca_cert.public_bytes(pem))
        self.client_cert.write_bytes(client_cert.public_bytes(pem))
        self.client_key.write_bytes(client_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_password))
        self.client_key.chmod(0o600)
        self.server_cert.write_bytes(server_cert.public_bytes(pem))  # the same server identity as PEM, for
        self.server_key.write_bytes(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_password))
        self.server_key.chmod(0o600)  # non-Java servers (the TLS tests' proxy)
        encryption = serialization.BestAvailableEncryption(self.password.encode())
        (self.folder / "server.p12").write_bytes(
            pkcs12.serialize_key_and_certificates(b"flink-rest", server_key, server_cert, [ca_cert], encryption)
        )
        subprocess.run(  # an argument list, never a shell string
            [
                "keytool",
                "-importcert",
                "-noprompt",
                "-alias",
                "ca",
                "-file",
                str(self.ca),
                "-keystore",
                str(self.folder / "truststore.p12"),
                "-storetype",
                "PKCS12",
                "-storepass",
                self.password,
            ],
            check=True,
            capture_output=True,
        )
