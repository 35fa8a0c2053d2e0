"""How to reach one Flink cluster: parsed once from an Airflow connection, validated by pydantic."""

from __future__ import annotations

import math
import ssl
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.log_safe import single_line_problem
from airflow_provider_flinkbatch.rest.tls import shared_ssl_context

CONN_TYPE = "flink_batch"
DEFAULT_CONN_ID = "flink_batch_default"


class FlinkConnectionError(FlinkBatchError, ValueError):
    """The connection is missing or malformed; the message names the field and the fix."""


def _seconds(value: Any) -> Any:
    try:
        number = float(value) if not isinstance(value, bool) else None  # pydantic would read true as 1 second
    except (TypeError, ValueError):
        number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise ValueError(f"expected a positive, finite number of seconds, got {value!r}")
    return number


#: A positive, finite number of seconds (``inf``, ``nan``, ``0``, ``-1``, ``true`` rejected at the edge).
Seconds = Annotated[float, BeforeValidator(_seconds)]


def connection_invalid(conn_id: str, err: ValidationError) -> FlinkConnectionError:
    """One line per problem: the field and what is wrong, never the input value (it may hold a secret)."""
    problems = []
    for error in err.errors():
        field = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(message if not field or message.startswith(field) else f"{field}: {message}")
    return FlinkConnectionError(f"connection {conn_id!r} is invalid: {'; '.join(problems)}")


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``http://user:pass@host:8081/x`` -> (``http://host:8081/x``, user, pass): credentials never stay in a
    URL, which is logged, pushed to XCom and turned into links."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=hostport)), unquote(user) or None, unquote(password) or None


def _normalize_url(value: str, field: str) -> str:
    url = value.strip().rstrip("/")
    shown = split_credentials(url)[0]
    if single_line_problem(url) or " " in url:
        raise ValueError(f"{field} must be one http(s) URL without spaces or control characters, got {shown!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{field} must be an http(s) URL like http://flink-jobmanager:8081, got {shown!r}")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.rsplit("@", 1)[-1].endswith(":")):
        raise ValueError(
            f"{field} has an invalid port (give 1-65535, e.g. http://flink-jobmanager:8081), got {shown!r}"
        )
    return split_credentials(url)[0]


@dataclass(frozen=True)
class ConnectionFields:
    """An Airflow connection's fields, as both settings models (``flink_batch``, ``flink_yarn``) read them."""

    conn_id: str
    conn_type: str | None = None
    host: str | None = None
    port: int | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def refuse_unknown_extras(self, known: set[str]) -> None:
        """A typo in an extra's name is refused by name instead of being ignored."""
        unknown = set(self.extra) - known
        if unknown:
            raise FlinkConnectionError(
                f"connection {self.conn_id!r}: unknown extra field(s) {sorted(unknown)}; known: {sorted(known)}"
            )

    def flag(self, key: str, default: bool = False) -> bool:
        return _as_bool(self.extra.get(key, default), key, self.conn_id)

    def verify(self) -> bool | str:
        """TLS verification from the extras: ``ca_path`` (a CA bundle) wins over ``verify_ssl``."""
        if self.extra.get("ca_path"):
            return str(self.extra["ca_path"])
        value = self.extra.get("verify_ssl")
        return True if value is None else _as_bool(value, "verify_ssl", self.conn_id)


class FlinkConnectionSettings(BaseModel):
    """Everything the REST clients need about one cluster. Secrets are ``SecretStr`` (never printed)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rest_url: str = Field(description="Flink REST base URL (JobManager or session cluster)")
    login: str | None = None
    password: SecretStr | None = None
    bearer_token: SecretStr | None = None
    verify: bool | str = True
    timeout: Seconds = Field(default=30.0, description="seconds per HTTP request")
    web_ui_url: str | None = None
    history_server_url: str | None = None
    archive_dir: str | None = Field(
        default=None, description="jobmanager.archive.fs.dir as a URL Airflow can read (file://, s3://, gs://...)"
    )
    archive_conn_id: str | None = Field(default=None, description="Airflow connection for the archive filesystem")
    client_cert: str | None = Field(default=None, description="PEM client certificate for mutual TLS")
    client_key: str | None = Field(default=None, description="PEM private key of the client certificate")

    @field_validator("rest_url")
    @classmethod
    def _rest_url(cls, value: str) -> str:
        return _normalize_url(value, "rest_url")

    @field_validator("web_ui_url", "history_server_url")
    @classmethod
    def _optional_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        return _normalize_url(value, str(info.field_name)) if value else None

    @model_validator(mode="after")
    def _cert_with_key(self) -> FlinkConnectionSettings:
        if bool(self.client_cert) != bool(self.client_key):
            raise ValueError("client_cert and client_key go together: set both PEM paths (or neither)")
        return self

    def client_certificate(self) -> tuple[str, str] | None:
        """(certificate, key) PEM paths for mutual TLS (``security.ssl.rest.authentication-enabled``)."""
        if self.client_cert and self.client_key:
            return (self.client_cert, self.client_key)
        return None

    def ssl_context(self) -> ssl.SSLContext:
        """The ``ssl.SSLContext`` with the CA and client certificate, for clients that take one (httpx); shared
        by every client with the same TLS settings (:mod:`~airflow_provider_flinkbatch.rest.tls`)."""
        return shared_ssl_context(self.verify, self.client_certificate())

    def for_history_server(self) -> FlinkConnectionSettings | None:
        """The same credentials and TLS settings aimed at the HistoryServer (None when not configured)."""
        if not self.history_server_url:
            return None
        return self.model_copy(update={"rest_url": self.history_server_url})

    @property
    def ui_url(self) -> str:
        """The Flink web UI is served by the REST endpoint unless a proxy URL is configured."""
        return self.web_ui_url or self.rest_url

    def auth_headers(self) -> dict[str, str]:
        if self.bearer_token is not None:
            return {"Authorization": f"Bearer {self.bearer_token.get_secret_value()}"}
        return {}

    def basic_auth(self) -> tuple[str, str] | None:
        if self.login and self.bearer_token is None:
            return (self.login, self.password.get_secret_value() if self.password else "")
        return None

    def secrets(self) -> list[str]:
        """Secret values to register with Airflow's secrets masker."""
        return [s.get_secret_value() for s in (self.password, self.bearer_token) if s is not None]

    @classmethod
    def from_connection_fields(cls, fields: ConnectionFields) -> FlinkConnectionSettings:
        """Build settings from an Airflow connection's fields.

        ``host`` may be a full URL (``https://jm:8081/prefix``) or a bare host name combined with ``port``
        and ``schema`` (``http``/``https``).
        """
        conn_id, host, port, extra = fields.conn_id, fields.host, fields.port, fields.extra
        login, password = fields.login, fields.password
        if fields.conn_type not in (None, "", CONN_TYPE):
            raise FlinkConnectionError(f"connection {conn_id!r} has type {fields.conn_type!r}; use type {CONN_TYPE!r}")
        if not host:
            raise FlinkConnectionError(
                f"connection {conn_id!r} has no host; set it to the Flink REST URL, e.g. http://flink-jobmanager:8081"
            )
        if "://" in host:
            host, url_login, url_password = split_credentials(host.strip())
            login, password = login or url_login, password or url_password
            rest_url = host if port is None or _has_port(host) else f"{host.rstrip('/')}:{port}"
        else:
            scheme = fields.schema or "http"
            rest_url = f"{scheme}://{host}" + (f":{port}" if port else "")
        verify = fields.verify()
        fields.refuse_unknown_extras(CONNECTION_EXTRA_KEYS)
        try:
            return cls(
                rest_url=rest_url,
                login=login or None,
                password=SecretStr(password) if password else None,
                bearer_token=extra.get("bearer_token") or None,
                verify=verify,
                timeout=extra.get("timeout", 30.0),
                web_ui_url=extra.get("web_ui_url") or None,
                history_server_url=extra.get("history_server_url") or None,
                archive_dir=extra.get("archive_dir") or None,
                archive_conn_id=extra.get("archive_conn_id") or None,
                client_cert=extra.get("client_cert") or None,
                client_key=extra.get("client_key") or None,
            )
        except ValidationError as err:
            raise connection_invalid(conn_id, err) from None  # the chained error would print the input


CONNECTION_EXTRA_KEYS = {
    "bearer_token",
    "verify_ssl",
    "ca_path",
    "timeout",
    "web_ui_url",
    "history_server_url",
    "archive_dir",
    "archive_conn_id",
    "client_cert",
    "client_key",
}


def _has_port(url: str) -> bool:
    try:
        return urlsplit(url).port is not None
    except ValueError:
        return True  # an invalid port: _normalize_url says so


def _as_bool(value: Any, field: str, conn_id: str) -> bool:
    """A JSON boolean, or the text ``true``/``false`` (what forms and connection URIs store); nothing else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str) else None
    if text in ("true", "false"):
        return text == "true"
    raise FlinkConnectionError(f"connection {conn_id!r}: extra {field} must be true or false, got {value!r}")
