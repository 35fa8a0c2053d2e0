"""The interface every deployment target implements, and the values that cross it."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from airflow_provider_flinkbatch.identity import JobIdentity


class JobRequest(BaseModel):
    """One submission: the split SQL, its Flink configuration and name, and who it belongs to."""

    model_config = ConfigDict(frozen=True)

    statements: list[str]
    flink_config: dict[str, str]
    job_name: str
    identity: JobIdentity
    attempt: int = 0

    @property
    def job_id(self) -> str:
        return self.identity.job_id(self.attempt)

    def for_attempt(self, attempt: int) -> JobRequest:
        return self.model_copy(update={"attempt": attempt})


class JobHandle(BaseModel):
    """How to find a submitted job again (serializable: goes into XCom and trigger kwargs)."""

    model_config = ConfigDict(frozen=True)

    target: str
    conn_id: str
    job_id: str


class ExistingJob(BaseModel):
    """A job of this task instance found on the target (any earlier try, or a crashed worker's)."""

    model_config = ConfigDict(frozen=True)

    handle: JobHandle
    attempt: int
    state: str
    fingerprint: str | None = None


class SubmissionRejected(Exception):
    """The target refused the job before it ran.

    ``sql_error``: the SQL itself is wrong (retrying cannot help). ``duplicate``: a job with this id
    was already submitted (someone else won the race: reattach to it).
    """

    def __init__(self, message: str, *, sql_error: bool, duplicate: bool = False) -> None:
        super().__init__(message)
        self.sql_error = sql_error
        self.duplicate = duplicate


class Target(Protocol):
    """Submit, find, inspect and cancel Flink jobs on one kind of deployment."""

    kind: str
    conn_id: str

    def submit(self, request: JobRequest) -> JobHandle: ...

    def find_existing(self, identity: JobIdentity) -> list[ExistingJob]:
        """Jobs of this task instance the target still knows, any attempt, any state."""
        ...

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        """Flink's ``GET /jobs/<id>`` JSON for the job (state, vertices, metrics)."""
        ...

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]: ...

    def cancel(self, handle: JobHandle) -> None: ...
