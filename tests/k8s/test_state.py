"""ResourceState: every case of the Flink Kubernetes Operator's batch status facts, read as the user's outcome.

Each case (``frames.CASES``) is the operator's sequence of full statuses; the watch follows it like the trigger
does (the first terminal read ends it, a stall past the grace fails it) and the table asserts what the
facts say the user must see: the outcome, the message (the real exception text, no ``SerializedThrowable``,
every cause kept) and whether a retry of the task can help.
"""

from __future__ import annotations

from typing import Any

import pytest
from k8s.frames import CASES, GRACE, JOB_ID, OPERATOR_JOB_ID, Case, frame, resource

from airflow_provider_flinkbatch.kubernetes.state import ResourceState, StallWatch, details_from_status, flink_job_id

OUTCOMES = {"FINISHED": "succeeded", "FAILED": "failed", "CANCELED": "cancelled"}
REF = "flink-jobs/r"


def follow(case: Case) -> tuple[str, ResourceState]:
    """Read the frames in order like the trigger: ``(final state, last observed)``."""
    watch = StallWatch(GRACE)
    observed: ResourceState | None = None
    state = "INITIALIZING"
    for second, status in case.frames:
        if status is None:
            observed = ResourceState.deleted(REF, observed)
            state = observed.state
        else:
            item = resource(case, status)
            observed = watch.check(ResourceState.of(item), second)
            flink: dict[str, Any] | None = None
            if case.flink_state and observed.jobmanager_may_answer:
                flink = {"jid": observed.job_id, "state": case.flink_state, "vertices": []}
            state = str(observed.job_details(item, observed.job_id or JOB_ID, flink)["state"])
        if state in OUTCOMES:
            break
    assert observed is not None
    return state, observed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_of_the_facts_reads_as_its_outcome(case: Case) -> None:
    state, observed = follow(case)
    assert OUTCOMES.get(state, "running") == case.outcome
    message = case.message.format(ref=REF) if case.message else None
    assert observed.error == message
    assert observed.retryable == case.retryable
    assert "SerializedThrowable" not in (observed.error or "")


def test_every_frame_has_a_state_and_no_intermediate_frame_is_an_outcome() -> None:
    """Frames before the last of a successful case never read as an outcome (no early success or failure)."""
    for case in CASES:
        if case.outcome != "succeeded" or case.flink_state:
            continue
        reads = [ResourceState.of(resource(case, s)).state for _, s in case.frames if s is not None]
        first_terminal = next(i for i, s in enumerate(reads) if s in OUTCOMES)
        assert reads[first_terminal] == "FINISHED", case.name
        assert all(s not in OUTCOMES for s in reads[:first_terminal]), case.name


def test_suspended_deployment_is_cancelled_not_a_success() -> None:
    observed = ResourceState.of({"metadata": {}, "status": frame("SUSPENDED", "MISSING", "FINISHED")})
    assert (observed.state, observed.terminal, observed.succeeded) == ("CANCELED", True, False)


def test_session_job_follows_the_operator_generated_job_id() -> None:
    item = {
        "metadata": {},
        "spec": {"deploymentName": "s"},
        "status": frame("STABLE", job="RUNNING", job_id=OPERATOR_JOB_ID),
    }
    assert flink_job_id(item, JOB_ID) == OPERATOR_JOB_ID
    assert flink_job_id({"metadata": {}, "status": {}}, JOB_ID) == JOB_ID
    assert details_from_status(item, JOB_ID, "")["jid"] == OPERATOR_JOB_ID


def test_a_stall_that_ends_restarts_the_clock() -> None:
    watch = StallWatch(GRACE)
    stuck: dict[str, Any] = {"metadata": {}, "status": frame("DEPLOYED", "ERROR", "RECONCILING", "x")}
    up = {"metadata": {}, "status": frame("DEPLOYED", "READY", "RECONCILING")}
    assert not watch.check(ResourceState.of(stuck), 0).terminal
    assert not watch.check(ResourceState.of(up), GRACE - 1).terminal
    assert not watch.check(ResourceState.of(stuck), GRACE + 1).terminal
    assert watch.check(ResourceState.of(stuck), 2 * GRACE + 1).state == "FAILED"


def test_status_wins_over_a_jobmanager_that_has_not_caught_up() -> None:
    item = {"metadata": {}, "status": frame("FAILED", "READY", "FAILED", "boom")}
    running = {"jid": JOB_ID, "state": "RUNNING", "vertices": [{"status": "RUNNING"}]}
    details = ResourceState.of(item).job_details(item, JOB_ID, running)
    assert details == details_from_status(item, JOB_ID, "") and details["state"] == "FAILED"
    finished = {"jid": JOB_ID, "state": "FINISHED", "vertices": [{"status": "FINISHED"}]}
    assert ResourceState.of(item).job_details(item, JOB_ID, finished) is finished


def test_a_deleted_resource_reads_as_flinks_own_outcome_when_a_source_still_has_the_job() -> None:
    running = ResourceState("RUNNING", OPERATOR_JOB_ID, None, "STABLE", None)
    assert ResourceState.deleted(REF, running, "FINISHED").state == "FINISHED"
    assert ResourceState.deleted(REF, running, "FINISHED").job_id == OPERATOR_JOB_ID
    assert ResourceState.deleted(REF, running, "RUNNING").state == "CANCELED"  # still running: the finalizer stops it
    gone = ResourceState.deleted(REF, running, None)
    assert gone.state == "CANCELED" and str(gone.error).startswith(f"the Flink resource {REF} was deleted")
    failed = ResourceState("FAILED", OPERATOR_JOB_ID, "boom", "FAILED", None)
    assert ResourceState.deleted(REF, failed, "FINISHED") is failed  # an outcome seen before stands
