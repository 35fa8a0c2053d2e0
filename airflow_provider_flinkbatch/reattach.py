"""Exactly-once submission: find this task instance's job on the target before submitting a new one.

Target-agnostic: works on any :class:`~airflow_provider_flinkbatch.targets.base.Target`, so the
session, Kubernetes and YARN targets share one set of rules:

=========================================  ==============================================
latest attempt found on the target          what happens
=========================================  ==============================================
none                                        submit attempt 0
running (any non-terminal state), same SQL  reattach: wait for it, submit nothing
running, changed SQL/config                 cancel it, submit the next attempt
FINISHED, same SQL, never reported          done: report it, submit nothing
FINISHED, same SQL, reported by a try       the task was cleared after its success: submit the next attempt
                                            (``rerun_finished=True``: always the next attempt)
CANCELLING                                  being cancelled (mark failed, then clear): submit the next attempt
FAILED / CANCELED / changed SQL             submit the next attempt
=========================================  ==============================================

"Reported" means an earlier try of this task instance ended successfully with that job (the operator records
its id in the task state store, :mod:`~airflow_provider_flinkbatch.reported`): Airflow showed the task as
success, so a clear asks for the work again. A FINISHED job no try reported (the worker died, the answer was
lost, the task failed for another reason) is this task's result: reporting it keeps the job exactly-once.

Any other attempt still running (it should not exist) is cancelled, so a task instance never has
two live jobs. If Flink refuses a submission as a duplicate, another worker won the race for that
attempt: reattach to it.

Two refusals end the try instead (:class:`IdentityConflict`): a found job that carries another
``airflow.deployment`` than this Airflow's (it is not ours: never reattach to, cancel or report it), and a
task instance whose :data:`~airflow_provider_flinkbatch.identity.MAX_ATTEMPTS` tracked attempts are used up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.identity import MAX_ATTEMPTS
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError
from airflow_provider_flinkbatch.session.state import JobState, is_terminal
from airflow_provider_flinkbatch.targets.base import ExistingJob, JobHandle, JobRequest, SubmissionRejected, Target

log = logging.getLogger(__name__)

Action = Literal["submit", "reattach", "finished"]

#: Status reported for a stored job id the target no longer knows, whose SQL/config changed, or that an earlier
#: try already reported as its success (a clear after success: run again, see the table above).
GONE, STALE, REPORTED = "UNKNOWN", "STALE", "REPORTED"
CANCELLING = "CANCELLING"


class IdentityConflict(FlinkBatchError):
    """This try cannot safely pick a job: one found is another deployment's, or the attempts are used up."""


@dataclass(frozen=True)
class Decision:
    """What to do for this try: the action, which job it concerns, and stale jobs to cancel first."""

    action: Action
    attempt: int
    job: ExistingJob | None = None
    cancel: list[ExistingJob] = field(default_factory=list)
    #: the FINISHED job an earlier try reported, run again by this try (a clear after success)
    rerun_of: ExistingJob | None = None


def check_deployment_of(existing: list[ExistingJob], deployment: str) -> None:
    """Refuse jobs that carry another Airflow deployment's ``airflow.deployment`` (ids are per deployment, so
    this means a forged or colliding identity: follow nothing, cancel nothing)."""
    for job in existing:
        theirs = job.deployment
        if theirs is not None and theirs != deployment:  # None: the target cannot tell (its ids are per deployment)
            raise IdentityConflict(
                f"Flink job {job.handle.job_id} (attempt {job.attempt}, {job.state}) has this task instance's id but "
                f"belongs to Airflow deployment {theirs!r}, not {deployment!r} (this Airflow's [flinkbatch] "
                "deployment): refusing to reattach to, cancel or report another deployment's job. Give each Airflow "
                "environment that shares the Flink cluster its own [flinkbatch] deployment (docs/identity.md)"
            )


def decide(
    existing: list[ExistingJob], fingerprint: str, *, rerun_finished: bool = False, reported: str | None = None
) -> Decision:
    """Apply the table above to the jobs found for this task instance (``reported``: the job id an earlier try
    reported as its success, if any)."""
    decision = _decide(existing, fingerprint, rerun_finished=rerun_finished, reported=reported)
    if decision.action == "submit" and decision.attempt >= MAX_ATTEMPTS:
        latest = max(existing, key=lambda job: job.attempt)
        raise IdentityConflict(
            f"this task instance has used all {MAX_ATTEMPTS} tracked Flink job attempts (the latest, Flink job "
            f"{latest.handle.job_id}, is {latest.state}); the provider submits no attempt it could not find again. "
            "Fix the cause, then run the task in a new DAG run (a new run id starts again at attempt 0)"
        )
    return decision


def _decide(existing: list[ExistingJob], fingerprint: str, *, rerun_finished: bool, reported: str | None) -> Decision:
    if not existing:
        return Decision("submit", attempt=0)
    latest = max(existing, key=lambda job: job.attempt)
    running_others = [job for job in existing if job is not latest and not is_terminal(job.state)]
    same = latest.fingerprint == fingerprint
    next_attempt = latest.attempt + 1
    if latest.state == CANCELLING:  # cancelled by a user action a moment ago: following it would end CANCELED
        return Decision("submit", attempt=next_attempt, cancel=running_others)
    if not is_terminal(latest.state):
        if same:
            return Decision("reattach", attempt=latest.attempt, job=latest, cancel=running_others)
        return Decision("submit", attempt=next_attempt, cancel=[*running_others, latest])
    if JobState.of(latest.state).succeeded and same:
        if latest.handle.job_id == reported and not rerun_finished:
            return Decision("submit", attempt=next_attempt, cancel=running_others, rerun_of=latest)
        if not rerun_finished:
            return Decision("finished", attempt=latest.attempt, job=latest, cancel=running_others)
    return Decision("submit", attempt=next_attempt, cancel=running_others)


@dataclass(frozen=True)
class Outcome:
    """The job this try follows, and how it got it."""

    handle: JobHandle
    action: Action
    attempt: int

    def describe(self, request: JobRequest, target: Target) -> str:
        """The task log's line about what this try did."""
        job_id = self.handle.job_id
        if self.action == "submit":
            return (
                f"Submitted Flink job {job_id} ({request.job_name}, attempt {self.attempt}) with "
                f"{len(request.statements)} statement(s) to {target.describe()}"
            )
        if self.action == "reattach":
            return f"Reattached to Flink job {job_id} (attempt {self.attempt}): it is still running"
        return f"Flink job {job_id} (attempt {self.attempt}) already FINISHED with this SQL: not rerun"


def attach_or_submit(
    target: Target, request: JobRequest, rerun_finished: bool = False, reported: str | None = None
) -> Outcome:
    """Find, cancel stale, then reattach or submit. Raises ``SubmissionRejected`` for rejected SQL."""
    existing = target.find_existing(request.identity)
    check_deployment_of(existing, request.identity.deployment)
    decision = decide(existing, request.identity.fingerprint, rerun_finished=rerun_finished, reported=reported)
    if decision.rerun_of is not None:
        log.info(
            "Flink job %s (attempt %d) FINISHED and an earlier try reported it as this task's success: the task "
            "was cleared, so attempt %d runs the SQL again",
            decision.rerun_of.handle.job_id,
            decision.rerun_of.attempt,
            decision.attempt,
        )
    for stale in decision.cancel:
        log.warning(
            "Cancelling Flink job %s (attempt %d, %s): superseded by this try",
            stale.handle.job_id,
            stale.attempt,
            stale.state,
        )
        target.cancel(stale.handle)
    if decision.job is not None:
        assert decision.action != "submit"
        return Outcome(decision.job.handle, decision.action, decision.attempt)
    attempt_request = request.for_attempt(decision.attempt)
    try:
        handle = target.submit(attempt_request)
    except SubmissionRejected as err:
        if not err.duplicate:
            raise
        # Another worker submitted this very attempt a moment ago: follow that job.
        handle = JobHandle(target=target.kind, conn_id=target.conn_id, job_id=attempt_request.job_id)
        return Outcome(handle, "reattach", decision.attempt)
    return Outcome(handle, "submit", decision.attempt)


def stored_job_status(target: Target, handle: JobHandle, fingerprint: str, reported: str | None = None) -> str:
    """State of the job id a previous try stored (``ResumableJobMixin``): ``GONE`` if the target no longer
    knows it, ``STALE`` if its SQL/config differ from this try's ``fingerprint``, ``REPORTED`` if it FINISHED
    and an earlier try reported it (``reported``: a clear after success, so the identity lookup decides)."""
    try:
        state = str(target.job_details(handle)["state"])
        stored = target.job_fingerprint(handle)
    except FlinkNotFoundError:
        return GONE
    if stored != fingerprint:
        return STALE
    return REPORTED if JobState.of(state).succeeded and handle.job_id == reported else state


def is_stored_job_active(status: str) -> bool:
    """The stored job (:func:`stored_job_status`) still runs with this try's SQL: follow it."""
    return status not in (GONE, STALE, REPORTED, CANCELLING) and JobState.of(status).running
