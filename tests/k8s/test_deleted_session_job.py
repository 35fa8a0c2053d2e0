"""A FlinkSessionJob deleted after its Flink job ended (cleanup, a user, a GitOps prune) while the operator had not
written the outcome yet: the job ran under the id the operator chose, so the trigger, a fresh target (a retry, a
cleared task) and the diagnosis find it through the JobManager / HistoryServer lookup chain and report how it really
ended, instead of "cancelled" or "unknown". Real kube-apiserver, emulated operator, real Flink + HistoryServer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from conftest import make_request, slow_sql
from k8s.apiserver import ApiServer
from k8s.conftest import NAMESPACE
from k8s.emulator import OperatorEmulator
from k8s.test_target import WAIT, resource_of, wait_for_event, wait_until

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.targets.base import JobHandle

pytestmark = pytest.mark.integration
SESSION = {"mode": "session", "session_deployment": "shared-session", "image": None}
#: No JobManager REST URL: the trigger follows the status alone, the HistoryServer is the only other record.
STATUS_ONLY = {**SESSION, "rest_url_template": None, "ui_url_template": None}
#: Fails about 6 s after it starts (the first 60 of 10 rows/s are not cast), so the operator has reported it
#: RUNNING before Flink ends it: the test then holds the operator and deletes the resource behind it.
BAD_CAST = """
CREATE TEMPORARY TABLE notes (id BIGINT, note STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '80',
  'rows-per-second' = '10', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1', 'fields.id.end' = '80',
  'fields.note.length' = '5');
CREATE TEMPORARY TABLE amounts (amount INT) WITH ('connector' = 'blackhole');
INSERT INTO amounts SELECT IF(id < 60, 0, CAST(note AS INT)) FROM notes;
"""


def run_then_delete_behind_the_operator(
    target: Any, request: Any, kube_api: ApiServer, emulator: OperatorEmulator, flink: LocalClusterInfo, final: str
) -> tuple[JobHandle, str, dict[str, Any]]:
    """Submit, let the operator report RUNNING, then hold it (it falls behind), let Flink end the job, wait for
    the HistoryServer to archive it and delete the resource while the trigger watches. Returns the handle, Flink's job id and the trigger's event."""
    from kubernetes import client

    handle = attach_or_submit(target, request).handle
    name = str(handle.ref).split("/")[1]

    def running() -> str | None:
        stored = resource_of(kube_api, handle, "flinksessionjobs") or {}
        job = (stored.get("status") or {}).get("jobStatus") or {}
        return job.get("jobId") if job.get("state") == "RUNNING" else None

    flink_job_id = str(wait_until(running, "the operator to report the job RUNNING", timeout=90))
    emulator.held.add(name)  # from here on the operator writes nothing for this resource
    event: dict[str, Any] = {}
    watcher = threading.Thread(target=lambda: event.update(wait_for_event(target.trigger(handle, WAIT))))
    watcher.start()
    try:
        wait_until(
            lambda: requests.get(f"{flink.rest_url}/jobs/{flink_job_id}", timeout=10).json()["state"] == final,
            f"Flink to end the job {final}",
            timeout=90,
        )

        def archived() -> bool:
            # While it unpacks an archive the HistoryServer rewrites the static file it serves: an empty 200, or
            # a body cut short of its Content-Length (IncompleteRead), for a moment. Ask again.
            try:
                answer = requests.get(f"{flink.history_url}/jobs/overview", timeout=10)
                jobs = answer.json()["jobs"] if answer.content else []
            except (requests.RequestException, ValueError):
                return False
            return any(job["jid"] == flink_job_id for job in jobs)

        wait_until(archived, "the HistoryServer to archive the job", timeout=120)
        wait_until(archived, "the HistoryServer's overview to settle", timeout=30)
        client.CustomObjectsApi(kube_api.api_client()).delete_namespaced_custom_object(
            "flink.apache.org", "v1beta1", NAMESPACE, "flinksessionjobs", name
        )
        watcher.join(timeout=120)
    finally:
        emulator.held.discard(name)
    assert resource_of(kube_api, handle, "flinksessionjobs") is None

    return handle, flink_job_id, event


def test_deleted_session_job_that_finished_is_reported_finished_and_not_run_again(
    make_target: Callable[..., Any],
    session_cluster: str,
    kube_api: ApiServer,
    operator_emulator: OperatorEmulator,
    flink_cluster: LocalClusterInfo,
) -> None:
    request = make_request(slow_sql(60, 20), "k8s-session-deleted-finished")
    handle, flink_job_id, event = run_then_delete_behind_the_operator(
        make_target(**STATUS_ONLY), request, kube_api, operator_emulator, flink_cluster, "FINISHED"
    )

    # the trigger: the last status it saw said RUNNING, then 404; the HistoryServer says FINISHED: success
    assert (event["status"], event["state"], event["flink_job_id"]) == ("terminal", "FINISHED", flink_job_id)
    assert "message" not in event
    # a retry or a cleared task (a fresh target, nothing cached): the HistoryServer proves the job FINISHED
    fresh = make_target(**STATUS_ONLY)
    assert fresh.job_details(handle)["state"] == "FINISHED"
    assert fresh.job_details(handle)["jid"] == flink_job_id != handle.job_id
    [found] = fresh.find_existing(request.identity)
    assert (found.handle.job_id, found.attempt, found.state) == (handle.job_id, 0, "FINISHED")
    assert found.fingerprint == request.identity.fingerprint
    outcome = attach_or_submit(make_target(**STATUS_ONLY), request)
    assert outcome.action == "finished" and outcome.handle.job_id == handle.job_id  # not submitted again
    print(
        f"K8S deleted session job: {handle.ref} Flink job {flink_job_id}: trigger {event['state']}, reattach "
        f"{outcome.action}"
    )


def test_deleted_session_job_that_failed_is_diagnosed_from_the_history_server(
    make_target: Callable[..., Any],
    session_cluster: str,
    kube_api: ApiServer,
    operator_emulator: OperatorEmulator,
    flink_cluster: LocalClusterInfo,
) -> None:
    request = make_request(BAD_CAST, "k8s-session-deleted-failed", **{"table.exec.legacy-cast-behaviour": "DISABLED"})
    handle, flink_job_id, event = run_then_delete_behind_the_operator(
        make_target(**SESSION), request, kube_api, operator_emulator, flink_cluster, "FAILED"
    )

    assert (event["state"], event["flink_job_id"]) == ("FAILED", flink_job_id)
    # after a deferral the operator knows only the provider's job id (no resource, no ref)
    after_deferral = JobHandle(target="kubernetes", conn_id=handle.conn_id, job_id=handle.job_id)
    diagnosis = make_target(**SESSION).diagnose(after_deferral, "FAILED", None)
    # (the session cluster's JobManager still knows the job, else the HistoryServer does: the chain's order)
    assert diagnosis.source in ("jobmanager", "historyserver") and diagnosis.job_id == flink_job_id
    assert diagnosis.exception_class == "java.lang.NumberFormatException"
    assert diagnosis.category == "user_data_error" and not diagnosis.retryable
    # no source knows a job: only then "unknown", saying what was tried
    unknown = JobHandle(target="kubernetes", conn_id=handle.conn_id, job_id="f" * 32, ref=f"{NAMESPACE}/gone-0")
    nothing = make_target(**SESSION).diagnose(unknown, "FAILED", None)
    assert nothing.source == "none" and "not known to any source" in str(nothing.advice)
    print(f"K8S deleted session job: {handle.ref} Flink job {flink_job_id} diagnosed {diagnosis.headline()}")
