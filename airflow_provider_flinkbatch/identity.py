"""Deterministic job identity: how a task try finds "its" Flink job again, whatever happened to the worker.

Scheme (documented in ``docs/identity.md``):

* **identity key** = sha256 of ``dag_id, task_id, run_id, map_index``, 20 hex characters. It names the
  task instance, not the try, so every try of the same task instance shares it.
* **fingerprint** = sha256 of the effective statements and Flink configuration, 16 hex characters.
  A changed SQL or config is a different job definition.
* **job id of attempt n** = first 32 hex characters of sha256(``identity key / n``). Attempt 0 is the
  first submission; a new attempt is only made when the previous one ended unsuccessfully or its
  definition changed. Because the id is computable, a fresh try finds earlier attempts on the target
  without any state saved in Airflow (a crash right after submitting loses nothing), and Flink itself
  refuses a second submission of the same id (two racing workers cannot both start attempt n).
* The job carries ``airflow.identity``, ``airflow.fingerprint``, ``airflow.attempt``, ``airflow.dag_id``
  and ``airflow.task_id`` as global job parameters (``/jobs/<id>/config`` -> ``user-config``, archived
  by the HistoryServer), so the fingerprint of a found job can be compared without guessing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

#: How many attempts of one task instance are looked for on a target (a safety bound, not a retry limit).
MAX_ATTEMPTS = 64
PARAM_PREFIX = "airflow."


def fingerprint(statements: list[str], flink_config: dict[str, str]) -> str:
    """Hash of what the job does: its statements and effective config (identity parameters excluded)."""
    payload = json.dumps({"statements": statements, "config": flink_config}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class JobIdentity(BaseModel):
    """Who a Flink job belongs to (one Airflow task instance) and what it runs (the fingerprint)."""

    model_config = ConfigDict(frozen=True)

    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1
    fingerprint: str

    @property
    def key(self) -> str:
        raw = json.dumps([self.dag_id, self.task_id, self.run_id, self.map_index])
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    def job_id(self, attempt: int) -> str:
        """The Flink job id of ``attempt`` (32 hex characters, the form Flink requires)."""
        return attempt_job_id(self.key, attempt)

    def candidate_job_ids(self) -> dict[str, int]:
        """Every job id this task instance may have used, mapped to its attempt number."""
        return {self.job_id(attempt): attempt for attempt in range(MAX_ATTEMPTS)}

    def job_parameters(self, attempt: int) -> dict[str, str]:
        return {
            f"{PARAM_PREFIX}identity": self.key,
            f"{PARAM_PREFIX}fingerprint": self.fingerprint,
            f"{PARAM_PREFIX}attempt": str(attempt),
            f"{PARAM_PREFIX}dag_id": self.dag_id,
            f"{PARAM_PREFIX}task_id": self.task_id,
        }


def attempt_job_id(key: str, attempt: int) -> str:
    """The provider's job id of ``attempt`` of the task instance ``key``: computable again from the identity
    parameters a job carries (``airflow.identity``, ``airflow.attempt``), whatever id Flink runs it under."""
    if not 0 <= attempt < MAX_ATTEMPTS:
        raise ValueError(f"attempt must be in [0, {MAX_ATTEMPTS}), got {attempt}")
    return hashlib.sha256(f"{key}/{attempt}".encode()).hexdigest()[:32]


def provider_job_id(user_config: Mapping[str, Any]) -> str | None:
    """:func:`attempt_job_id` from a job's global job parameters (``/jobs/<id>/config`` user-config), if it has them."""
    key, attempt = user_config.get(f"{PARAM_PREFIX}identity"), user_config.get(f"{PARAM_PREFIX}attempt")
    try:
        return attempt_job_id(str(key), int(str(attempt))) if key and attempt is not None else None
    except ValueError:
        return None


def flink_map_option(values: dict[str, str], existing: str | None = None) -> str:
    """Render a Flink map option (``k1:v1,k2:v2``) with quoting, appended to an existing value."""

    def quote(text: str) -> str:
        return "'" + text.replace("'", "''") + "'" if any(c in text for c in ",:'\" ") else text

    rendered = ",".join(f"{quote(k)}:{quote(v)}" for k, v in values.items())
    return f"{existing},{rendered}" if existing else rendered


def normalize_flink_config(config: dict[str, Any] | None) -> dict[str, str]:
    """Flink's REST API takes string values; convert scalars, refuse structures with a clear message."""
    result: dict[str, str] = {}
    for key, value in (config or {}).items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"flink_config keys must be non-empty strings, got {key!r}")
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            result[key] = str(value)
        else:
            raise ValueError(
                f"flink_config[{key!r}] must be a string, number or boolean, got {type(value).__name__}: "
                "write lists as Flink does, e.g. 'a;b' or 'k1:v1,k2:v2'"
            )
    return result
