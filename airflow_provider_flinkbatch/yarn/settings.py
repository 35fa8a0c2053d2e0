"""How to reach one YARN cluster and its Flink CLI: parsed once from a ``flink_yarn`` connection.

One connection describes the cluster side: ResourceManager URL(s) (several for RM HA), who to act as
(``user.name`` on simple-auth clusters, or SPNEGO with a Kerberos principal/keytab), where the Flink
CLI and the Hadoop configuration live on the worker, and where the HistoryServer is. What varies per
job (queue, memory, extra config) goes in the operator's ``target_options`` instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from airflow_provider_flinkbatch.rest.settings import (
    ConnectionFields,
    FlinkConnectionError,
    Seconds,
    _normalize_url,
    connection_invalid,
)

CONN_TYPE = "flink_yarn"
DEFAULT_CONN_ID = "flink_yarn_default"

#: Extras copied as they are onto the settings (validated by the model's fields).
_PLAIN_EXTRAS = (
    "flink_home",
    "flink_cli",
    "hadoop_conf_dir",
    "hadoop_classpath",
    "kerberos_principal",
    "kerberos_keytab",
    "history_server_url",
    "runner_jar",
    "timeout",
    "cli_timeout",
    "history_grace",
)
#: Extras a ``flink_yarn`` connection accepts (anything else is a typo and is refused by name).
YARN_EXTRA_KEYS = {*_PLAIN_EXTRAS, "rm_urls", "spnego", "verify_ssl", "ca_path", "flink_config"}


class YarnConnectionSettings(BaseModel):
    """Everything the YARN target needs about one cluster; secrets never printed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    conn_id: str = DEFAULT_CONN_ID
    rm_urls: list[str] = Field(min_length=1, description="ResourceManager web URLs; several = RM HA")
    user: str | None = Field(default=None, description="user.name for simple (pseudo) auth")
    password: SecretStr | None = None
    spnego: bool = False
    kerberos_principal: str | None = None
    kerberos_keytab: str | None = None
    verify: bool | str = True
    timeout: Seconds = 30.0
    cli_timeout: Seconds = Field(default=600.0, description="seconds the flink CLI may take to deploy")
    flink_home: str | None = None
    flink_cli: str | None = None
    hadoop_conf_dir: str | None = None
    hadoop_classpath: str | None = None
    history_server_url: str | None = None
    history_grace: float = Field(
        default=15.0, ge=0, allow_inf_nan=False, description="seconds to wait for the HistoryServer archive"
    )
    runner_jar: str | None = Field(default=None, description="runner jar path/URI instead of building it")
    flink_config: dict[str, str] = Field(default_factory=dict, description="cluster-wide -D presets")

    @field_validator("rm_urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        return [_normalize_url(url, "rm_urls") for url in value]

    @field_validator("history_server_url")
    @classmethod
    def _history(cls, value: str | None) -> str | None:
        return _normalize_url(value, "history_server_url") if value else None

    @model_validator(mode="after")
    def _kerberos(self) -> YarnConnectionSettings:
        if bool(self.kerberos_principal) != bool(self.kerberos_keytab):
            raise ValueError("kerberos_principal and kerberos_keytab go together: set both (or neither)")
        return self

    def flink_executable(self) -> str:
        """The ``flink`` CLI to run: explicit path, else ``<flink_home>/bin/flink``, ``$FLINK_HOME``, PATH."""
        candidates: list[tuple[str, str]] = []
        if self.flink_cli:
            candidates.append(("flink_cli", self.flink_cli))
        elif self.flink_home:
            candidates.append(("flink_home", str(Path(self.flink_home) / "bin" / "flink")))
        elif os.environ.get("FLINK_HOME"):
            candidates.append(("$FLINK_HOME", str(Path(os.environ["FLINK_HOME"]) / "bin" / "flink")))
        else:
            found = shutil.which("flink")
            if found:
                return found
            raise FlinkConnectionError(
                f"connection {self.conn_id!r}: no Flink CLI found: set extra flink_home (a Flink distribution "
                "with Hadoop/YARN support) or flink_cli (path to bin/flink), or FLINK_HOME on the worker"
            )
        source, path = candidates[0]
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise FlinkConnectionError(
                f"connection {self.conn_id!r}: the Flink CLI from {source} ({path}) is not an executable file"
            )
        return path

    def cli_environment(self) -> dict[str, str]:
        """Environment of the CLI process: the worker's, plus the Hadoop settings of the connection."""
        env = dict(os.environ)
        if self.flink_home:
            env["FLINK_HOME"] = self.flink_home
        if self.hadoop_conf_dir:
            env["HADOOP_CONF_DIR"] = self.hadoop_conf_dir
        if self.hadoop_classpath:
            env["HADOOP_CLASSPATH"] = self.hadoop_classpath
        return env

    def kerberos_config(self) -> dict[str, str]:
        """Flink's own Kerberos login options, so the CLI (and the cluster) authenticate with the keytab."""
        if not self.kerberos_principal:
            return {}
        return {
            "security.kerberos.login.principal": self.kerberos_principal,
            "security.kerberos.login.keytab": str(self.kerberos_keytab),
            "security.kerberos.login.use-ticket-cache": "false",
        }

    def proxy_url(self, app_id: str) -> str:
        """The YARN web proxy in front of the application's Flink REST API and web UI."""
        return f"{self.rm_urls[0]}/proxy/{app_id}"

    def app_page_url(self, app_id: str) -> str:
        return f"{self.rm_urls[0]}/cluster/app/{app_id}"

    @classmethod
    def from_connection_fields(cls, fields: ConnectionFields) -> YarnConnectionSettings:
        """``host``: ResourceManager URL(s), comma-separated for HA (or extra ``rm_urls``, a list)."""
        conn_id, port, extra = fields.conn_id, fields.port, fields.extra
        if fields.conn_type not in (None, "", CONN_TYPE):
            raise FlinkConnectionError(
                f"connection {conn_id!r} has type {fields.conn_type!r}; target='yarn' needs a {CONN_TYPE!r} "
                f"connection (ResourceManager URL, Flink CLI): pass flink_conn_id='{DEFAULT_CONN_ID}' or another "
                f"{CONN_TYPE} one"
            )
        fields.refuse_unknown_extras(YARN_EXTRA_KEYS)
        urls = extra.get("rm_urls") or [u.strip() for u in (fields.host or "").split(",") if u.strip()]
        if isinstance(urls, str):
            urls = [u.strip() for u in urls.split(",") if u.strip()]
        if not urls:
            raise FlinkConnectionError(
                f"connection {conn_id!r} has no ResourceManager URL: set host to http://<rm>:8088 "
                "(comma-separated for RM HA) or extra rm_urls"
            )
        scheme = fields.schema or "http"
        urls = [u if "://" in u else f"{scheme}://{u}" + (f":{port}" if port else "") for u in urls]
        verify = fields.verify()
        flink_config = extra.get("flink_config") or {}
        if not isinstance(flink_config, dict):
            raise FlinkConnectionError(f"connection {conn_id!r}: extra flink_config must be a JSON object")
        plain: dict[str, Any] = {key: extra[key] for key in _PLAIN_EXTRAS if extra.get(key) not in (None, "")}
        try:
            return cls(
                conn_id=conn_id,
                rm_urls=list(urls),
                user=fields.login or None,
                password=SecretStr(fields.password) if fields.password else None,
                spnego=fields.flag("spnego"),
                verify=verify,
                flink_config={str(k): _config_value(v) for k, v in flink_config.items()},
                **plain,
            )
        except ValidationError as err:
            raise connection_invalid(conn_id, err) from None  # the chained error would print the input


def _config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
