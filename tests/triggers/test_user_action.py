"""User actions on a deferred task, with the real scheduler, triggerer and Flink (issue 20, item 6).

Airflow 3.3 calls the trigger's ``on_kill`` for mark success, mark failed and clear alike; the provider tells
them apart by the task instance's state (``triggers/user_action.py``). One documented outcome each
(docs/identity.md, "User actions on a task"):

* mark success / mark failed while deferred: the task keeps the state the user gave, the Flink job is CANCELED,
  whether a triggerer runs the task's trigger (its ``on_kill``) or none has yet (the api-server's listener,
  ``plugins/marked.py``);
* clear while deferred: the Flink job keeps running, the new try follows it and succeeds with it (before, the
  old trigger's ``on_kill`` cancelled the job the new try had reattached to: the new try ended CANCELED);
* clear after success: the new try runs the SQL again as the next attempt (a new Flink job).
"""

from __future__ import annotations

import time

import pytest
from deferred_airflow import DeferredDeployment

from airflow_provider_flinkbatch.identity import attempt_job_id

pytestmark = pytest.mark.integration

SLOW, SHORT = "deferred_slow", "deferred_short"


def _deferred_with_job(airflow: DeferredDeployment, run_id: str) -> str:
    """Trigger a run of the slow DAG, wait until its task is deferred; the id of its one running Flink job."""
    airflow.trigger(SLOW, run_id)
    airflow.wait_for_state(SLOW, run_id, ("deferred",), timeout=400)
    [job] = airflow.flink_jobs(SLOW, run_id)
    assert job["state"] not in ("FINISHED", "FAILED", "CANCELED"), job
    return str(job["jid"])


def test_clearing_a_deferred_task_keeps_its_job_and_the_new_try_succeeds_with_it(
    deferred_airflow: DeferredDeployment,
) -> None:
    run_id = "clear-deferred"
    job_id = _deferred_with_job(deferred_airflow, run_id)
    deferred_airflow.clear(SLOW, run_id)
    ti = deferred_airflow.wait_for_try(SLOW, run_id, 2, timeout=400)
    assert (ti["state"], ti["try_number"]) == ("success", 2), ti
    # one job, the same, run to its end: nothing cancelled it, nothing submitted a second one
    assert [(job["jid"], job["state"]) for job in deferred_airflow.flink_jobs(SLOW, run_id)] == [(job_id, "FINISHED")]
    kept = f"The task was cleared: Flink job {job_id} keeps running for the task's new try"
    assert kept in deferred_airflow.all_logs()
    second = deferred_airflow.task_log(SLOW, run_id, 2)
    assert "Reconnecting to existing job" in second and job_id in second, second[-3000:]
    # the trigger reported the end from the shared overview; the resumed try read the job's figures itself
    finished = f"Flink job {job_id} FINISHED in"
    assert finished in second and "2/2 vertices finished" in second and "sink 3,600 written" in second, second[-3000:]


@pytest.mark.parametrize("state", ["success", "failed"])
def test_marking_a_deferred_task_cancels_its_job_and_keeps_the_state(
    deferred_airflow: DeferredDeployment, state: str
) -> None:
    run_id = f"mark-{state}"
    job_id = _deferred_with_job(deferred_airflow, run_id)
    deferred_airflow.wait_for_trigger_running(SLOW, run_id)  # the triggerer waits on the job: its on_kill runs
    deferred_airflow.mark(SLOW, run_id, state)
    _assert_cancelled_and_kept(deferred_airflow, run_id, job_id, state)


def test_marking_a_task_before_any_triggerer_ran_its_trigger_cancels_its_job(
    deferred_airflow: DeferredDeployment,
) -> None:
    """The triggerer frozen from before the deferral until after the mark: its trigger never runs, so no
    ``on_kill`` can cancel the job (as for a busy triggerer's first seconds, or one restarting): the
    api-server's listener does. Before it, the job ran on unwatched to FINISHED."""
    run_id = "mark-before-trigger"
    with deferred_airflow.airflow.paused("triggerer"):
        job_id = _deferred_with_job(deferred_airflow, run_id)
        deferred_airflow.mark(SLOW, run_id, "success")
        jobs = deferred_airflow.wait_for_jobs(SLOW, run_id, {"CANCELED"}, timeout=200)
        assert [job["jid"] for job in jobs] == [job_id]
        assert deferred_airflow.trigger_log(SLOW, run_id) == ""  # no triggerer has run its trigger
    cancelled = f"deferred_slow.job ({run_id}) was marked while deferred: cancelled its Flink job {job_id}"
    assert cancelled in deferred_airflow.component_log("api-server")
    _assert_cancelled_and_kept(deferred_airflow, run_id, job_id, "success")


def _assert_cancelled_and_kept(airflow: DeferredDeployment, run_id: str, job_id: str, state: str) -> None:
    jobs = airflow.wait_for_jobs(SLOW, run_id, {"CANCELED"}, timeout=200)
    assert [job["jid"] for job in jobs] == [job_id]
    time.sleep(5)  # nothing runs the task again
    ti = airflow.ti(SLOW, run_id)
    assert (ti["state"], ti["try_number"]) == (state, 1), ti
    assert len(airflow.flink_jobs(SLOW, run_id)) == 1


def test_clearing_a_succeeded_task_runs_its_sql_again_as_the_next_attempt(
    deferred_airflow: DeferredDeployment,
) -> None:
    run_id = "clear-after-success"
    deferred_airflow.trigger(SHORT, run_id)
    first = deferred_airflow.wait_for_try(SHORT, run_id, 1, timeout=400)
    assert first["state"] == "success", first
    [job] = deferred_airflow.wait_for_jobs(SHORT, run_id, {"FINISHED"})
    # A user clears a task they saw succeed; the scheduler then ends the DAG run. Clearing in the instant
    # between the two loses the clear in Airflow 3.3: the scheduler, deciding on the task's old state, writes
    # the run success over the clear's "queued" and never schedules the cleared task (seen under load).
    assert deferred_airflow.wait_for_run_end(SHORT, run_id) == "success"
    deferred_airflow.clear(SHORT, run_id)
    ti = deferred_airflow.wait_for_try(SHORT, run_id, 2, timeout=400)
    assert (ti["state"], ti["try_number"]) == ("success", 2), ti
    jobs = deferred_airflow.wait_for_jobs(SHORT, run_id, {"FINISHED"})
    assert len(jobs) == 2 and jobs[0]["jid"] == job["jid"], jobs
    # the second job is attempt 1 of the same task instance (its id is computable from the first's identity)
    config = deferred_airflow.job_config(str(jobs[1]["jid"]))
    assert config["airflow.attempt"] == "1"
    assert jobs[1]["jid"] == attempt_job_id(config["airflow.identity"], 1)
    log = deferred_airflow.task_log(SHORT, run_id, 2)
    rerun = (
        f"Flink job {job['jid']} (attempt 0) FINISHED and an earlier try reported it as this task's success: the "
        "task was cleared, so attempt 1 runs the SQL again"
    )
    assert rerun in log, log[-3000:]
