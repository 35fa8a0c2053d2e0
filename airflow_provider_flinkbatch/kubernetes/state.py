"""ResourceState: the ONE place that reads a FlinkDeployment / FlinkSessionJob ``.status`` as a job outcome.

The target (``job_details``, ``find_existing``, cleanup, diagnosis) and the trigger both go through
:class:`ResourceState`, so they agree on when a job is over and how it went. A new rule about the
operator's status fields (``jobStatus.state``, ``lifecycleState``, ``jobManagerDeploymentStatus``,
``error``) goes into :meth:`ResourceState.of` and nowhere else. The rules, in order:

1. ``status.jobStatus.state`` is terminal (FINISHED, FAILED, CANCELED, SUSPENDED): that is the outcome.
   A finished batch application keeps lifecycle STABLE/DEPLOYED and later ``MISSING`` JobManager:
   only the job state tells.
2. ``status.lifecycleState == SUSPENDED`` (``spec.job.state: suspended``, how this provider cancels):
   CANCELED.
3. ``jobManagerDeploymentStatus == ERROR`` or ``lifecycleState == FAILED`` (bad image, crash loop,
   rejected configuration, the runner's ``main`` failing): FAILED, with ``status.error`` as the reason.
4. Otherwise the job state, or INITIALIZING while the operator has not deployed anything yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from airflow_provider_flinkbatch.kubernetes.manifests import JOB_NAME_ANNOTATION
from airflow_provider_flinkbatch.session.state import JobState, is_terminal


@dataclass(frozen=True)
class ResourceState:
    """What the operator reports about one resource, read as a Flink job state (``state``) and the
    user's message (``error``). Build it with :meth:`of`."""

    state: str
    job_id: str | None
    error: str | None
    lifecycle: str | None
    deployment: str | None
    #: The failure is the deployment's (no Flink job to ask about): the error text is the root cause.
    deployment_failed: bool = False

    @classmethod
    def of(cls, resource: dict[str, Any]) -> ResourceState:
        """Apply the module's rules to one custom resource (as the API returns it)."""
        status = resource.get("status") or {}
        job_status = status.get("jobStatus") or {}
        job_state = str(job_status.get("state") or "").upper() or None
        lifecycle = status.get("lifecycleState")
        deployment = status.get("jobManagerDeploymentStatus")
        error = error_message(status.get("error"))
        job_id = job_status.get("jobId") or None
        if job_state and is_terminal(job_state):
            return cls(job_state, job_id, error, lifecycle, deployment)
        if lifecycle == "SUSPENDED":
            return cls("CANCELED", job_id, error, lifecycle, deployment)
        if deployment == "ERROR" or lifecycle == "FAILED":
            reason = (
                error or f"the operator reports lifecycleState={lifecycle}, jobManagerDeploymentStatus={deployment}"
            )
            return cls("FAILED", job_id, reason, lifecycle, deployment, deployment_failed=True)
        return cls(job_state or "INITIALIZING", job_id, error, lifecycle, deployment)

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

    def job_details(self, resource: dict[str, Any], job_id: str, flink: dict[str, Any] | None) -> dict[str, Any]:
        """The job's ``GET /jobs/<id>``: Flink's own answer (``flink``) unless the status already says the job
        is over and Flink does not (yet); then one built from the status alone."""
        if flink is not None and (is_terminal(str(flink["state"])) or not self.terminal):
            return flink
        job_name = (resource["metadata"].get("annotations") or {}).get(JOB_NAME_ANNOTATION, "")
        return details_from_status(resource, job_id, job_name)

    @property
    def jobmanager_may_answer(self) -> bool:
        """Worth asking the JobManager's REST API: a job id is known and the JobManager is (or was) up.

        While the operator is still deploying (DEPLOYING, DEPLOYED_NOT_READY) every call would only
        time out; after a finish the JobManager may be gone (MISSING) but the HistoryServer knows the job.
        """
        if self.deployment_failed or not self.job_id:
            return False
        return self.deployment in (None, "READY", "MISSING") or is_terminal(self.state)


def error_message(raw: Any) -> str | None:
    """``status.error`` as text: the operator writes JSON ``{"type", "message", "throwableList"}``."""
    if not raw:
        return None
    text = str(raw)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if not isinstance(parsed, dict):
        return text
    kind = str(parsed.get("type") or "").strip()
    message = str(parsed.get("message") or "").strip()
    causes = [
        f"{c.get('type', '')}: {c.get('message', '')}".strip(": ")
        for c in parsed.get("throwableList") or []
        if isinstance(c, dict)
    ]
    head = f"{kind}: {message}" if kind and message else (message or kind or text)
    return "; caused by ".join([head, *causes]) if causes else head


def _millis(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def details_from_status(resource: dict[str, Any], job_id: str, job_name: str) -> dict[str, Any]:
    """A ``GET /jobs/<id>``-shaped dict from the status alone (no REST access to the JobManager)."""
    observed = ResourceState.of(resource)
    job_status = (resource.get("status") or {}).get("jobStatus") or {}
    start = _millis(job_status.get("startTime"))
    end = _millis(job_status.get("updateTime")) if is_terminal(observed.state) else None
    return {
        "jid": job_id,
        "name": job_status.get("jobName") or job_name,
        "state": observed.state,
        "start-time": start or -1,
        "end-time": end or -1,
        "duration": (end - start) if start and end and end >= start else -1,
        "vertices": [],
    }
