"""Identity on the real local Flink: what a script's SET would do to it, and another deployment's job."""

from __future__ import annotations

import time

import pytest
import requests
from conftest import make_request, slow_sql

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.reattach import IdentityConflict, attach_or_submit
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import FlinkRestClient
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobRequest

pytestmark = pytest.mark.integration


@pytest.fixture
def target(flink_cluster: LocalClusterInfo) -> SessionTarget:
    return SessionTarget(FlinkRestClient(FlinkConnectionSettings(rest_url=flink_cluster.rest_url)), "identity")


def submit_raw(target: SessionTarget, request: JobRequest, **parameters: str | None) -> str:
    """Submit as the provider would, bypassing its checks, with some global job parameters replaced (None:
    left out, as a job submitted by a release before the parameter existed)."""
    body = target.run_body(request)
    config = body["flinkConfiguration"]
    for key, value in parameters.items():
        old = f"{key}:{request.identity.job_parameters(request.attempt)[key]}"
        items = config["pipeline.global-job-parameters"].split(",")
        kept = [item if item != old else f"{key}:{value}" for item in items if item != old or value is not None]
        config["pipeline.global-job-parameters"] = ",".join(kept)
    return str(target.client.call(calls.run_jar(target.runner_jar_id(), body))["jobid"])


def user_config(rest_url: str, job_id: str) -> dict[str, str]:
    answer = requests.get(f"{rest_url}/jobs/{job_id}/config", timeout=10).json()
    return dict(answer["execution-config"]["user-config"])


def test_a_set_of_the_global_job_parameters_in_the_script_would_erase_the_identity(
    target: SessionTarget, flink_cluster: LocalClusterInfo
) -> None:
    """Why the provider refuses it (docs/identity.md): Flink applies the script's SET over the submitted config."""
    sql = "SET 'pipeline.global-job-parameters' = 'team:forged';\n" + slow_sql(rows=5)
    request = make_request(sql, "it.identity.set")
    job_id = submit_raw(target, request)
    seen = user_config(flink_cluster.rest_url, job_id)
    assert "airflow.identity" not in seen and seen.get("team") == "forged"
    # so the task instance's own job no longer carries its fingerprint: a retry would take it for stale
    assert target.job_fingerprint(target.handle_for(job_id)) is None


def test_a_found_job_of_another_deployment_is_refused_not_followed(
    target: SessionTarget, flink_cluster: LocalClusterInfo
) -> None:
    request = make_request(slow_sql(rows=400), "it.identity.deployment")
    job_id = submit_raw(target, request, **{"airflow.deployment": "intruder"})
    try:
        deadline = time.monotonic() + 60
        while target.job_details(target.handle_for(job_id))["state"] != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.2)
        with pytest.raises(IdentityConflict) as err:
            attach_or_submit(target, request)
        assert str(err.value) == (
            f"Flink job {job_id} (attempt 0, RUNNING) has this task instance's id but belongs to Airflow deployment "
            "'intruder', not 'default' (this Airflow's [flinkbatch] deployment): refusing to reattach to, cancel or "
            "report another deployment's job. Give each Airflow environment that shares the Flink cluster its own "
            "[flinkbatch] deployment (docs/identity.md)"
        )
        # nothing was cancelled, nothing else submitted
        assert requests.get(f"{flink_cluster.rest_url}/jobs/{job_id}", timeout=10).json()["state"] == "RUNNING"
        assert [job.handle.job_id for job in target.find_existing(request.identity)] == [job_id]
    finally:
        target.cancel(target.handle_for(job_id))


def test_a_job_submitted_before_deployments_existed_is_the_default_deployments(
    target: SessionTarget, flink_cluster: LocalClusterInfo
) -> None:
    request = make_request(slow_sql(rows=400), "it.identity.legacy")
    job_id = submit_raw(target, request, **{"airflow.deployment": None})
    try:
        assert "airflow.deployment" not in user_config(flink_cluster.rest_url, job_id)
        outcome = attach_or_submit(target, request)
        assert (outcome.action, outcome.handle.job_id) == ("reattach", job_id)
    finally:
        target.cancel(target.handle_for(job_id))
