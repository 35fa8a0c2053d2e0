"""The reattach rules' refusals: another deployment's job, and attempts beyond the tracked limit."""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.identity import MAX_ATTEMPTS, JobIdentity
from airflow_provider_flinkbatch.reattach import IdentityConflict, check_deployment_of, decide
from airflow_provider_flinkbatch.targets.base import ExistingJob, JobHandle

IDENTITY = JobIdentity(dag_id="d", task_id="t", run_id="r", fingerprint="f" * 16, deployment="default")


def job(attempt: int, state: str, deployment: str | None = None) -> ExistingJob:
    handle = JobHandle(target="session", conn_id="c", job_id=IDENTITY.job_id(attempt))
    return ExistingJob(handle=handle, attempt=attempt, state=state, fingerprint="f" * 16, deployment=deployment)


def test_a_job_of_another_deployment_is_refused_with_both_names() -> None:
    with pytest.raises(IdentityConflict) as err:
        check_deployment_of([job(0, "RUNNING", "staging")], "default")
    assert str(err.value) == (
        f"Flink job {IDENTITY.job_id(0)} (attempt 0, RUNNING) has this task instance's id but belongs to Airflow "
        "deployment 'staging', not 'default' (this Airflow's [flinkbatch] deployment): refusing to reattach to, "
        "cancel or report another deployment's job. Give each Airflow environment that shares the Flink cluster "
        "its own [flinkbatch] deployment (docs/identity.md)"
    )


def test_a_job_whose_deployment_the_target_cannot_read_is_not_refused() -> None:
    # YARN and Kubernetes find jobs by the identity key, which already holds the deployment
    check_deployment_of([job(0, "FINISHED", None), job(1, "RUNNING", "prod")], "prod")
    with pytest.raises(IdentityConflict, match="belongs to Airflow deployment 'default', not 'prod'"):
        check_deployment_of([job(0, "FINISHED", "default")], "prod")


def test_the_last_tracked_attempt_may_run_but_none_after_it() -> None:
    assert decide([job(MAX_ATTEMPTS - 2, "FAILED")], "f" * 16).attempt == MAX_ATTEMPTS - 1
    with pytest.raises(IdentityConflict) as err:
        decide([job(MAX_ATTEMPTS - 1, "FAILED")], "f" * 16)
    assert str(err.value) == (
        f"this task instance has used all 64 tracked Flink job attempts (the latest, Flink job "
        f"{IDENTITY.job_id(63)}, is FAILED); the provider submits no attempt it could not find again. Fix the "
        "cause, then run the task in a new DAG run (a new run id starts again at attempt 0)"
    )


def test_a_finished_last_attempt_is_still_reported_not_refused() -> None:
    assert decide([job(MAX_ATTEMPTS - 1, "FINISHED")], "f" * 16).action == "finished"


def test_a_finished_job_no_try_reported_is_reported_one_a_try_reported_runs_again() -> None:
    finished = job(0, "FINISHED")
    assert decide([finished], "f" * 16).action == "finished"  # worker died, answer lost: exactly once
    assert decide([finished], "f" * 16, reported="someone-else").action == "finished"
    again = decide([finished], "f" * 16, reported=finished.handle.job_id)  # cleared after success
    assert (again.action, again.attempt, again.rerun_of) == ("submit", 1, finished)


def test_a_job_being_cancelled_is_not_followed_the_next_attempt_is_submitted() -> None:
    decision = decide([job(0, "CANCELLING")], "f" * 16)
    assert (decision.action, decision.attempt, decision.cancel) == ("submit", 1, [])
