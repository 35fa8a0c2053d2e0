"""Each Flink REST endpoint the provider uses, defined once as data.

A :class:`ApiCall` says what to send and how to read the answer; the sync and async clients in
``client.py`` execute the same definitions. Job ids are checked before they go into a URL path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")
_JAR_ID = re.compile(r"^[0-9A-Za-z_.-]+\.jar$")


def check_job_id(job_id: str) -> str:
    """Flink job ids are 32 lower-case hex characters; anything else is a caller error."""
    if not isinstance(job_id, str) or not _JOB_ID.match(job_id):
        raise ValueError(f"not a Flink job id: {job_id!r} (expected 32 hex characters)")
    return job_id


def _identity(body: Any) -> Any:
    return body


def _require(*keys: str) -> Callable[[Any], dict[str, Any]]:
    def parse(body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or any(key not in body for key in keys):
            raise KeyError(f"expected JSON object with {list(keys)}")
        return body

    return parse


@dataclass(frozen=True)
class ApiCall(Generic[T]):
    """One REST request: method, path relative to the base URL, body, and the parser of the answer.

    ``idempotent`` calls are retried on transient errors; others (a job run) are sent once.
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    idempotent: bool = True
    expect_json: bool = True


def cluster_overview() -> ApiCall[dict[str, Any]]:
    return ApiCall("GET", "/overview", _require("taskmanagers"))


def jobs_overview() -> ApiCall[dict[str, Any]]:
    return ApiCall("GET", "/jobs/overview", _require("jobs"))


def job_details(job_id: str) -> ApiCall[dict[str, Any]]:
    return ApiCall("GET", f"/jobs/{check_job_id(job_id)}", _require("jid", "state"))


def job_status(job_id: str) -> ApiCall[dict[str, Any]]:
    """The job's state alone (``{"status": "RUNNING"}``): a few bytes, and fresh. ``GET /jobs/<id>`` is cached by
    the JobManager for ``web.refresh-interval`` (3 s by default) and says RUNNING that long after the end."""
    return ApiCall("GET", f"/jobs/{check_job_id(job_id)}/status", _require("status"))


def job_config(job_id: str) -> ApiCall[dict[str, Any]]:
    """Execution config of a job, with the global job parameters under ``user-config``."""
    return ApiCall("GET", f"/jobs/{check_job_id(job_id)}/config", _require("execution-config"))


def job_exceptions(job_id: str) -> ApiCall[dict[str, Any]]:
    return ApiCall("GET", f"/jobs/{check_job_id(job_id)}/exceptions", _require("exceptionHistory"))


def job_accumulators(job_id: str) -> ApiCall[dict[str, Any]]:
    """User accumulators of a job (kept after it ended, and archived): the runner's rows-written counters."""
    return ApiCall("GET", f"/jobs/{check_job_id(job_id)}/accumulators", _require("user-task-accumulators"))


def cancel_job(job_id: str) -> ApiCall[Any]:
    # Flink answers 202 with an empty body; cancelling twice is harmless, so it is retried.
    return ApiCall("PATCH", f"/jobs/{check_job_id(job_id)}", _identity, params={"mode": "cancel"}, expect_json=False)


def jobmanager_environment() -> ApiCall[dict[str, Any]]:
    """The JobManager's JVM and classpath: which connector/format jars a session cluster has."""
    return ApiCall("GET", "/jobmanager/environment", _require("classpath"))


def list_jars() -> ApiCall[dict[str, Any]]:
    return ApiCall("GET", "/jars", _require("files"))


def run_jar(jar_id: str, body: dict[str, Any]) -> ApiCall[dict[str, Any]]:
    if not _JAR_ID.match(jar_id):
        raise ValueError(f"not a Flink jar id: {jar_id!r}")
    return ApiCall("POST", f"/jars/{jar_id}/run", _require("jobid"), json=body, idempotent=False)


def upload_path() -> str:
    """``POST /jars/upload`` is multipart, so only the sync client sends it (see ``upload_jar``)."""
    return "/jars/upload"
