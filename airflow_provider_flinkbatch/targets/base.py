"""The interface every deployment target implements, and the values that cross it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from airflow_provider_flinkbatch.diagnosis import Diagnosis
from airflow_provider_flinkbatch.identity import JobIdentity

if TYPE_CHECKING:  # Airflow itself is not loaded by the spec tools and the CLI
    from airflow.triggers.base import BaseTrigger


class _Value(BaseModel):
    """Immutable: these values are handed between the operator, the targets, XCom and trigger kwargs."""

    model_config = ConfigDict(frozen=True)


class JobRequest(_Value):
    """One submission: the split SQL, its Flink configuration and name, and who it belongs to."""

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


class JobHandle(_Value):
    """How to find a submitted job again (serializable: goes into XCom and trigger kwargs)."""

    target: str
    conn_id: str
    job_id: str
    #: The target's own name for what runs the job, when it has one: YARN application id,
    #: Kubernetes ``namespace/name`` of the custom resource. ``None`` on a session cluster.
    ref: str | None = None


class ExistingJob(_Value):
    """A job of this task instance found on the target (any earlier try, or a crashed worker's)."""

    handle: JobHandle
    attempt: int
    state: str
    fingerprint: str | None = None
    #: The ``airflow.deployment`` the job carries (a job submitted before deployments existed: ``default``);
    #: ``None`` where the target cannot read job parameters (YARN tags, Kubernetes labels: found by the
    #: identity key, which already holds the deployment).
    deployment: str | None = None


class SubmissionRejected(Exception):
    """The target refused the job before it ran.

    ``sql_error``: the SQL itself is wrong (retrying cannot help). ``duplicate``: a job with this id
    was already submitted (someone else won the race: reattach to it).
    """

    def __init__(self, message: str, *, sql_error: bool, duplicate: bool = False) -> None:
        super().__init__(message)
        self.sql_error = sql_error
        self.duplicate = duplicate


class SubmissionAnswerLost(Exception):
    """The submission was sent but its answer never came, and the job could not be found afterwards.

    Not a refusal: Flink may or may not have the job. The next try's identity lookup finds it if it appears
    (its id is deterministic), so retrying is safe.
    """


class WaitOptions(_Value):
    """How the operator wants a job watched; every target's trigger honours these."""

    poll_interval: float = 5.0
    transient_error_budget: float = 180.0
    cancel_on_kill: bool = True


class Target(Protocol):
    """Submit, find, inspect and cancel Flink jobs on one kind of deployment.

    The operator talks only to this interface (see :mod:`~airflow_provider_flinkbatch.targets.registry`
    for how a ``target=`` name becomes an instance), so session, Kubernetes and YARN share the
    reattach rules, the waiting loop, the links and the failure diagnosis.
    """

    kind: str
    conn_id: str

    def describe(self) -> str:
        """Where jobs go, for log lines ("session cluster https://flink:8081")."""
        ...

    def handle_for(self, job_id: str, request: JobRequest | None = None) -> JobHandle:
        """Rebuild the handle of a job id stored by an earlier try (``request``: this try's job)."""
        ...

    def job_fingerprint(self, handle: JobHandle) -> str | None:
        """The ``airflow.fingerprint`` the job was submitted with (raises FlinkNotFoundError if gone)."""
        ...

    def trigger(self, handle: JobHandle, wait: WaitOptions) -> BaseTrigger:
        """The deferrable trigger that follows this job to a terminal state.

        Its event is ``{"status": "terminal", "job_id", "state", "summary"}`` or
        ``{"status": "error", "job_id", "message"}`` (extra keys allowed).
        """
        ...

    def link_info(self, handle: JobHandle) -> dict[str, Any]:
        """Base URLs the extra links need (``web_ui_url``, ``history_server_url``, target-specific)."""
        ...

    def diagnose(self, handle: JobHandle, state: str, retry_on: dict[str, bool] | None) -> Diagnosis:
        """Why the job did not finish: root cause, failing vertex, retryable or not."""
        ...

    def submit(self, request: JobRequest) -> JobHandle: ...

    def find_existing(self, identity: JobIdentity) -> list[ExistingJob]:
        """Jobs of this task instance the target still knows, any attempt, any state."""
        ...

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        """Flink's ``GET /jobs/<id>`` JSON for the job (state, vertices, metrics)."""
        ...

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]: ...

    def cancel(self, handle: JobHandle) -> None: ...
