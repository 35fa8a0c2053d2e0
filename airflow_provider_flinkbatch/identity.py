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
* The job carries ``airflow.identity``, ``airflow.fingerprint``, ``airflow.attempt``, ``airflow.dag_id``,
  ``airflow.task_id`` and ``airflow.deployment`` as global job parameters (``/jobs/<id>/config`` ->
  ``user-config``, archived by the HistoryServer), so the fingerprint of a found job can be compared
  without guessing.
* **deployment** (Airflow option ``[flinkbatch] deployment``) is part of the identity key, so two Airflow
  environments sharing one Flink cluster compute different job ids for the same dag/task/run. The default
  deployment (``default``) keeps the key it had before deployments existed: existing job ids stay stable.
  A config value, not the metadata database's identity: Airflow 3 workers cannot reach the database, and
  the value must be the same on the scheduler, every worker and the triggerer.
* The options that carry the identity (``pipeline.global-job-parameters``, ``$internal.*`` such as
  ``$internal.pipeline.job-id``, and ``pipeline.name``) belong to the provider: a ``SET``/``RESET`` of one in
  the SQL, or one in ``flink_config``, is refused by :func:`identity_option_problems` before anything is
  submitted (a ``SET`` would replace the identity parameters in the job Flink runs, and the next try would
  no longer recognise its own job).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

#: How many attempts of one task instance are looked for on a target (a safety bound, not a retry limit).
MAX_ATTEMPTS = 64
PARAM_PREFIX = "airflow."
DEPLOYMENT_PARAM = f"{PARAM_PREFIX}deployment"
#: The deployment of an Airflow that sets no ``[flinkbatch] deployment`` (and of jobs submitted before the
#: option existed, which carry no ``airflow.deployment``): its identity keys are the ones used before.
DEFAULT_DEPLOYMENT = "default"
DEPLOYMENT_ENV = "AIRFLOW__FLINKBATCH__DEPLOYMENT"
_DEPLOYMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")

GLOBAL_JOB_PARAMETERS = "pipeline.global-job-parameters"
PIPELINE_NAME = "pipeline.name"
INTERNAL_PREFIX = "$internal."
_SET_OR_RESET = re.compile(r"^\s*(SET|RESET)\b\s*(?:'((?:[^']|'')*)'|([^\s=;]+))?", re.IGNORECASE | re.DOTALL)


class IdentityError(ValueError):
    """A deployment name or an identity option the provider cannot accept; the message says what to fix."""


def check_deployment(name: str) -> str:
    """``name`` if it can be a deployment name (it goes into job parameters and hashes), else IdentityError."""
    if not isinstance(name, str) or not _DEPLOYMENT.fullmatch(name):
        raise IdentityError(
            f"[flinkbatch] deployment must be 1-63 letters, digits, '.', '_' or '-' (starting with a letter or "
            f"digit), got {name!r}: set it (or {DEPLOYMENT_ENV}) to a name for this Airflow environment, "
            "e.g. prod-eu"
        )
    return name


def deployment_name() -> str:
    """This Airflow environment's deployment name: ``[flinkbatch] deployment`` (env
    ``AIRFLOW__FLINKBATCH__DEPLOYMENT``), else :data:`DEFAULT_DEPLOYMENT`."""
    text = os.environ.get(DEPLOYMENT_ENV)
    if text is None:
        try:
            from airflow.sdk.configuration import conf  # only to read one option; absent outside Airflow
        except ImportError:  # pragma: no cover - Airflow is a dependency
            return DEFAULT_DEPLOYMENT
        text = conf.get("flinkbatch", "deployment", fallback="") or ""
    return check_deployment(text.strip()) if text.strip() else DEFAULT_DEPLOYMENT


def _owned_option_problem(key: str, where: str) -> str | None:
    """Why ``key`` (set in ``where``) is the provider's, or None if the user may set it."""
    if key.startswith(INTERNAL_PREFIX):
        return (
            f"{where} sets {key!r}, a Flink-internal option; the provider sets the job id itself from the task "
            "instance's identity (docs/identity.md), so a retry finds the job: remove it"
        )
    if key == PIPELINE_NAME:
        return f"{where} sets {key!r}; the provider names the job: give job_name= (a spec's job_name) instead"
    return None


def identity_option_problems(statements: list[str], flink_config: Mapping[str, str]) -> list[str]:
    """What in the statements or ``flink_config`` would touch the options that carry the job's identity.

    ``flink_config['pipeline.global-job-parameters']`` is the user's and is merged with the provider's,
    except ``airflow.*`` keys (they would forge the identity).
    """
    problems = []
    for key in flink_config:
        if problem := _owned_option_problem(key, "flink_config"):
            problems.append(problem)
    own = flink_config.get(GLOBAL_JOB_PARAMETERS)
    if own is not None and re.search(r"(^|,)\s*'?airflow\.", own):
        problems.append(
            f"flink_config[{GLOBAL_JOB_PARAMETERS!r}] sets airflow.* parameters; those carry the job's identity "
            "and are the provider's: use other names for your own parameters"
        )
    for index, statement in enumerate(statements, start=1):
        match = _SET_OR_RESET.match(statement)
        if match is None or not (key := (match.group(2) or "").replace("''", "'") or (match.group(3) or "")):
            continue
        where = f"statement {index} ({match.group(1).upper()} {key!r})"
        if key == GLOBAL_JOB_PARAMETERS:
            problems.append(
                f"{where} would replace the job's identity parameters (airflow.identity, airflow.attempt, ...), so "
                f"a retry could no longer recognise the job: give your own parameters in flink_config"
                f"[{GLOBAL_JOB_PARAMETERS!r}] instead (merged with the provider's)"
            )
        elif problem := _owned_option_problem(key, where):
            problems.append(problem.replace(f"{where} sets {key!r}", f"{where} touches {key!r}"))
    return problems


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
    #: The Airflow environment (``[flinkbatch] deployment``); read from the config when not given.
    deployment: str = Field(default_factory=deployment_name)

    @property
    def key(self) -> str:
        parts: list[Any] = [self.dag_id, self.task_id, self.run_id, self.map_index]
        if self.deployment != DEFAULT_DEPLOYMENT:  # the default keeps the keys of before deployments existed
            parts.insert(0, self.deployment)
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:20]

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
            DEPLOYMENT_PARAM: self.deployment,
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
