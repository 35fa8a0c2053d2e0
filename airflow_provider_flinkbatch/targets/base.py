"""The interface every deployment target implements, and the values that cross it."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


class JobRequest(BaseModel):
    """One job to run: the split SQL, its Flink configuration, its name and its deterministic id."""

    model_config = ConfigDict(frozen=True)

    statements: list[str]
    flink_config: dict[str, str]
    job_name: str
    job_id: str


class JobHandle(BaseModel):
    """How to find a submitted job again (serializable: goes into XCom and trigger kwargs)."""

    model_config = ConfigDict(frozen=True)

    target: str
    conn_id: str
    job_id: str


class SubmissionRejected(Exception):
    """The target refused the job before it ran.

    ``sql_error``: the SQL itself is wrong (retrying cannot help). ``duplicate``: a job with this id
    was already submitted (the reattach logic decides what that means).
    """

    def __init__(self, message: str, *, sql_error: bool, duplicate: bool = False) -> None:
        super().__init__(message)
        self.sql_error = sql_error
        self.duplicate = duplicate


class Target(Protocol):
    """Submit, inspect and cancel Flink jobs on one kind of deployment."""

    kind: str

    def submit(self, request: JobRequest) -> JobHandle: ...

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        """Flink's ``GET /jobs/<id>`` JSON for the job (state, vertices, metrics)."""
        ...

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]: ...

    def cancel(self, handle: JobHandle) -> None: ...
