"""Which Flink configuration values are secrets, and hiding them from logs and the UI.

One rule for every place a job's config travels (operator, YARN ``-D`` argv, Kubernetes manifests), so a
key judged secret in one place is never printed in another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_secret_config_key(key: str) -> bool:
    """``s3.secret-key``, ``security.ssl.rest.keystore-password``, ``fs.azure.account.key...``: yes;
    ``table.exec.sink.keyed-shuffle``: no. Judged on the last segment of the key."""
    last = key.lower().rsplit(".", 1)[-1]
    return any(word in last for word in ("password", "secret", "token", "credential")) or (
        last == "key" or last.endswith(("-key", "_key", "accesskey"))
    )


def split_secret_config(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(public, secret)``: the configuration without the secret keys, and the secret keys alone."""
    public = {k: v for k, v in config.items() if not is_secret_config_key(k)}
    return public, {k: v for k, v in config.items() if is_secret_config_key(k)}


def mask_secret_config(config: Mapping[str, Any]) -> None:
    """Register values of secret-looking keys with Airflow's secrets masker."""
    from airflow.sdk.log import mask_secret  # Airflow's logging stack: loaded in tasks only, not by the CLI

    for key, value in config.items():
        text = str(value)
        if is_secret_config_key(key) and text and text.lower() not in ("true", "false"):
            mask_secret(text, key)
