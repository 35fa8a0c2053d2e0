"""ResourceState: the ONE place that reads a FlinkDeployment / FlinkSessionJob ``.status`` as a job outcome.

The target (``job_details``, ``find_existing``, cleanup, diagnosis) and the trigger both go through
:class:`ResourceState`, so they agree on when a job is over and how it went. The rules follow what the
Flink Kubernetes Operator really writes for a bounded job (docs/kubernetes.md has the table of cases):

1. ``jobStatus.state`` FAILED / CANCELED is the outcome. FINISHED is a success **unless**
   ``lifecycleState`` is SUSPENDED: the operator's suspend of a FlinkDeployment stores FINISHED, never
   CANCELED, so a FINISHED job of a suspended deployment reads as CANCELED (Flink's own answer, when the
   JobManager or HistoryServer still knows the job, wins in :meth:`ResourceState.job_details`).
2. ``lifecycleState`` SUSPENDED without a terminal job state: CANCELED.
3. A validation error (``lifecycleState`` FAILED, ``ValidationException``): FAILED, no retry helps.
4. States the real operator can keep for ever are *stalled* (not terminal): JobManager ERROR (the
   operator re-checks the pod; it may come up), submit errors it keeps retrying (``ReconciliationException``),
   a resource it never reconciled (FlinkSessionJob whose session cluster is missing / not READY, or no
   operator watching), ``Job Not Found`` after a JobManager restart (FLINK-38290) and the savepoint
   lookup bug (FLINK-37370). :class:`StallWatch` turns a stall that lasts ``stall_grace`` seconds into
   FAILED with the stall's reason, so nothing waits until ``execution_timeout``.
5. Otherwise the job state, or INITIALIZING while the operator has not deployed anything yet.

``job_id`` is ``.status.jobStatus.jobId``: the id Flink runs the job under. For a FlinkSessionJob the
operator chooses it (a user-set ``$internal.pipeline.job-id`` is ignored), so every Flink call goes
through :func:`flink_job_id`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_flinkbatch.kubernetes.manifests import JOB_NAME_ANNOTATION
from airflow_provider_flinkbatch.session.state import JobState, is_terminal

SERIALIZED_THROWABLE = "org.apache.flink.util.SerializedThrowable"
_VALIDATION = "ValidationException"
_RECONCILIATION = "ReconciliationException"
#: JobManager pod reasons a new attempt of the task does not cure (the spec or the image is wrong).
_PERMANENT_POD_REASONS = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "CrashLoopBackOff", "RunContainerError", "CreateContainerConfigError"}
)


@dataclass(frozen=True)
class ResourceState:
    """What the operator reports about one resource, read as a Flink job state (``state``), the user's
    message (``error``) and whether a retry of the task can help (``retryable``). Build it with :meth:`of`."""

    state: str
    job_id: str | None
    error: str | None
    lifecycle: str | None
    deployment: str | None
    #: The failure is the deployment's (no Flink job to ask about): the error text is the root cause.
    deployment_failed: bool = False
    #: Whether running the task again can succeed (transient cause) rather than fail the same way.
    retryable: bool = False
    #: Why the operator may stay in this non-terminal state for ever (``None``: it is making progress).
    stalled: str | None = None

    @classmethod
    def of(cls, resource: dict[str, Any]) -> ResourceState:
        """Apply the module's rules to one custom resource (as the API returns it)."""
        status = resource.get("status") or {}
        spec = resource.get("spec") or {}
        job_status = status.get("jobStatus") or {}
        job_state = str(job_status.get("state") or "").upper() or None
        lifecycle = status.get("lifecycleState")
        deployment = status.get("jobManagerDeploymentStatus")
        parsed = _parse_error(status.get("error"))
        error = error_message(status.get("error"))
        job_id = job_status.get("jobId") or None
        base = cls("INITIALIZING", job_id, error, lifecycle, deployment)
        kind = str(parsed.get("type") or "")
        if job_state == "FINISHED" and lifecycle == "SUSPENDED":
            why = "the resource was suspended (spec.job.state: suspended): the operator stopped the job"
            return replace(base, state="CANCELED", error=error or why)
        if job_state and is_terminal(job_state):
            return replace(base, state=job_state)
        if lifecycle == "SUSPENDED":
            return replace(base, state="CANCELED")
        if lifecycle == "FAILED" and not kind.endswith(_RECONCILIATION):
            reason = error or f"the operator reports lifecycleState=FAILED, jobManagerDeploymentStatus={deployment}"
            return replace(base, state="FAILED", error=reason, deployment_failed=True)
        current = replace(base, state=job_state or "INITIALIZING")
        if lifecycle == "DELETING":
            return replace(current, state="CANCELLING", error=error or "the resource is being deleted")
        if deployment == "ERROR":
            reason = str((parsed.get("additionalMetadata") or {}).get("reason") or "")
            text = error or "the JobManager deployment is in ERROR"
            return replace(
                current,
                deployment_failed=True,
                retryable=reason not in _PERMANENT_POD_REASONS,
                stalled=f"the JobManager does not come up: {text}",
            )
        if error and error.strip().lower() == "job not found":
            return replace(
                current,
                stalled="the operator lost the job (Job Not Found: its JobManager restarted or the session "
                "cluster expired the finished job, FLINK-38290); the HistoryServer is the only record left",
            )
        if error and "could not observe latest savepoint information" in error.lower():
            return replace(
                current,
                stalled=f"the operator cannot observe the finished job ({error}, FLINK-37370: "
                "upgrade the operator to 1.12 or later)",
            )
        if kind.endswith(_RECONCILIATION):
            return replace(
                current,
                deployment_failed=True,
                retryable=True,
                stalled=f"the operator keeps retrying the submission: {error}",
            )
        if lifecycle == "STABLE" and deployment == "MISSING":
            return replace(
                current,
                stalled="the JobManager is gone and the operator reset the job to "
                f"{job_state}: before 1.11 it does so after the shutdown TTL (FLINK-37320) and may run the job again",
            )
        if job_state is None and lifecycle in (None, "CREATED"):
            session = spec.get("deploymentName")
            why = (
                f"the operator has not submitted the job: the session cluster FlinkDeployment {session} "
                "is missing or its JobManager is not READY"
                if session
                else "the operator has not reconciled the resource: is a Flink Kubernetes Operator watching "
                "this namespace?"
            )
            return replace(current, stalled=why, retryable=True)
        return current

    @classmethod
    def deleted(cls, ref: str, last: ResourceState | None = None, flink_state: str | None = None) -> ResourceState:
        """The resource is gone (404) while its job was followed: the operator's finalizer cancelled the job.

        An outcome seen before the delete (``last``) stands; then Flink's own terminal state (``flink_state``,
        from the JobManager or HistoryServer: a FlinkSessionJob deleted after its job finished); otherwise
        CANCELED, saying who to ask.
        """
        if last is not None and last.terminal:
            return last
        if flink_state is not None and is_terminal(flink_state):
            return cls(flink_state.upper(), last.job_id if last else None, None, None, None)
        message = (
            f"the Flink resource {ref} was deleted while the job was being watched: the operator cancels a "
            "deleted resource's job; look for who deleted it (kubectl get events)"
        )
        return cls("CANCELED", last.job_id if last else None, message, None, None)

    @property
    def terminal(self) -> bool:
        return is_terminal(self.state)

    @property
    def succeeded(self) -> bool:
        return JobState.of(self.state).succeeded

    @property
    def jobmanager_running(self) -> bool:
        """The JobManager itself can be polled (not only the HistoryServer after it went away)."""
        return self.jobmanager_may_answer and self.deployment != "MISSING"

    @property
    def jobmanager_may_answer(self) -> bool:
        """Worth asking the JobManager's REST API: a job id is known and the JobManager is (or was) up.

        While the operator is still deploying (DEPLOYING, DEPLOYED_NOT_READY, ERROR) every call would only
        time out; after a finish the JobManager may be gone (MISSING) but the HistoryServer knows the job.
        """
        if self.deployment_failed or not self.job_id:
            return False
        return self.deployment in (None, "READY", "MISSING") or is_terminal(self.state)

    def job_details(self, resource: dict[str, Any], job_id: str, flink: dict[str, Any] | None) -> dict[str, Any]:
        """The job's ``GET /jobs/<id>``: Flink's own answer (``flink``) unless the status already says the job
        is over and Flink does not (yet); then one built from the status alone."""
        if flink is not None and (is_terminal(str(flink["state"])) or not self.terminal):
            return flink
        job_name = (resource["metadata"].get("annotations") or {}).get(JOB_NAME_ANNOTATION, "")
        return details_from_status(resource, job_id, job_name, self)

    def timed_out(self, seconds: float) -> ResourceState:
        """This stall, after ``seconds`` without progress: FAILED with the stall's reason."""
        message = f"{self.stalled}; no progress for {seconds:.0f} s (stall_grace), giving up"
        return replace(self, state="FAILED", error=message)


@dataclass
class StallWatch:
    """Turns a stall (:attr:`ResourceState.stalled`) that lasts ``grace`` seconds into FAILED.

    One per watched resource, fed each poll; a change of the stall's reason, or progress, restarts the clock.
    """

    grace: float
    since: float | None = None
    reason: str | None = None

    def check(self, observed: ResourceState, now: float) -> ResourceState:
        if observed.terminal or observed.stalled is None:
            self.since = self.reason = None
            return observed
        if self.since is None or self.reason != observed.stalled:
            self.since, self.reason = now, observed.stalled
        waited = now - self.since
        return observed.timed_out(waited) if waited >= self.grace else observed


def flink_job_id(resource: dict[str, Any] | None, fallback: str) -> str:
    """The id Flink runs the job under: ``.status.jobStatus.jobId`` once the operator reports one."""
    if resource is None:
        return fallback
    return ResourceState.of(resource).job_id or fallback


def _parse_error(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        parsed = json.loads(str(raw))
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _throwable(entry: dict[str, Any]) -> str:
    """One level: ``class: message``, without ``SerializedThrowable`` (Flink's wrapper, not the real class)."""
    kind = str(entry.get("type") or "").strip()
    message = str(entry.get("message") or "").strip()
    if kind == SERIALIZED_THROWABLE or not kind:
        return message
    return f"{kind}: {message}" if message else kind


def error_message(raw: Any) -> str | None:
    """``status.error`` as one line: the operator writes JSON ``{"type", "message", "throwableList"}``.

    Every level is kept (``; caused by``); ``SerializedThrowable`` is dropped (the operator stores Flink's
    wrapper class, the message is the original text); a pod reason (``ImagePullBackOff``) is appended.
    """
    if not raw:
        return None
    text = str(raw)
    parsed = _parse_error(raw)
    if not parsed:
        return text
    head = _throwable(parsed) or text
    reason = (parsed.get("additionalMetadata") or {}).get("reason")
    if reason and str(reason) not in head:
        head = f"{head} ({reason})"
    causes = [_throwable(c) for c in parsed.get("throwableList") or [] if isinstance(c, dict)]
    return "; caused by ".join([head, *[c for c in causes if c]])


def _millis(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def details_from_status(
    resource: dict[str, Any], job_id: str, job_name: str, observed: ResourceState | None = None
) -> dict[str, Any]:
    """A ``GET /jobs/<id>``-shaped dict from the status alone (no REST access to the JobManager)."""
    observed = observed or ResourceState.of(resource)
    job_status = (resource.get("status") or {}).get("jobStatus") or {}
    start = _millis(job_status.get("startTime"))
    end = _millis(job_status.get("updateTime")) if is_terminal(observed.state) else None
    return {
        "jid": observed.job_id or job_id,
        "name": job_status.get("jobName") or job_name,
        "state": observed.state,
        "start-time": start or -1,
        "end-time": end or -1,
        "duration": (end - start) if start and end and end >= start else -1,
        "vertices": [],
    }
