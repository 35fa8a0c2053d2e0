"""KubernetesTarget and FlinkKubernetesTrigger on the real kube-apiserver, with the operator emulator
running every resource on the real local Flink cluster: deployment errors, rejected resources, SQL
errors, reattach after a crash, cancel on kill, big scripts in a ConfigMap, session jobs, cleanup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from conftest import make_request, slow_sql
from k8s.apiserver import ApiServer
from k8s.conftest import NAMESPACE, resources
from k8s.emulator import OperatorEmulator

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.plugins.marked import cancel_stored_trigger
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.targets.base import JobHandle, SubmissionRejected, WaitOptions

pytestmark = pytest.mark.integration
WAIT = WaitOptions(poll_interval=0.3, transient_error_budget=20)


def wait_for_event(trigger: Any, timeout: float = 120) -> dict[str, Any]:
    """The trigger's single event, as the triggerer would get it."""

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("trigger ended without an event")

    return asyncio.run(asyncio.wait_for(first(), timeout))


def wait_until(check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def resource_of(kube_api: ApiServer, handle: JobHandle, plural: str = "flinkdeployments") -> dict[str, Any] | None:
    name = str(handle.ref).split("/")[1]
    return next((r for r in resources(kube_api, plural) if r["metadata"]["name"] == name), None)


def config_maps(kube_api: ApiServer) -> dict[str, Any]:
    from kubernetes import client

    items = client.CoreV1Api(kube_api.api_client()).list_namespaced_config_map(NAMESPACE).items
    return {cm.metadata.name: cm for cm in items}


def test_deployment_error_fails_with_the_operators_message(make_target: Callable[..., Any]) -> None:
    # The operator keeps JobManager ERROR (the pod may still come up): the wait ends after stall_grace.
    target = make_target(image="registry.invalid/flink:missing", stall_grace=3)
    handle = attach_or_submit(target, make_request(slow_sql(5), "k8s-bad-image")).handle

    event = wait_for_event(target.trigger(handle, WAIT))

    assert event["status"] == "terminal" and event["state"] == "FAILED"
    assert 'Back-off pulling image "registry.invalid/flink:missing" (ImagePullBackOff)' in event["message"]
    assert event["message"].startswith("the JobManager does not come up: ") and "(stall_grace)" in event["message"]
    assert event["retryable"] is False
    diagnosis = target.diagnose(handle, "FAILED", None)
    assert diagnosis.exception_class == "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException"
    assert diagnosis.source == f"kubernetes {handle.ref}"
    assert "Back-off pulling image" in diagnosis.headline()


def test_resource_the_apiserver_rejects_is_reported_with_its_reason(make_target: Callable[..., Any]) -> None:
    target = make_target(pod_template={"apiVersion": "v1", "kind": "Pod", "spec": {"containers": "flink"}})
    with pytest.raises(SubmissionRejected, match=r"Kubernetes refused FlinkDeployment .*containers.*array"):
        target.submit(make_request(slow_sql(5), "k8s-rejected"))


def test_sql_error_fails_without_retry_and_the_next_attempt_is_a_new_resource(
    make_target: Callable[..., Any], kube_api: ApiServer
) -> None:
    target = make_target()
    sql = "CREATE TEMPORARY TABLE t (id BIGINT) WITH ('connector' = 'blackhole');\nINSERT INTO t SELECT idd FROM (VALUES (1)) AS v(id);"
    request = make_request(sql, "k8s-sql-error")
    first = attach_or_submit(target, request)

    event = wait_for_event(target.trigger(first.handle, WAIT))

    assert event["state"] == "FAILED"
    diagnosis = target.diagnose(first.handle, "FAILED", None)
    assert diagnosis.category == "sql_error" and not diagnosis.retryable
    assert "Column 'idd' not found" in str(diagnosis.message)
    target.after_terminal(first.handle, "FAILED")
    # A retry of the task makes attempt 1: a second resource; the failed one stays for debugging.
    second = attach_or_submit(target, request)
    assert (second.action, second.attempt) == ("submit", 1)
    assert str(second.handle.ref).endswith("-1") and resource_of(kube_api, first.handle) is not None


def test_reattach_after_a_crash_follows_the_same_resource(
    make_target: Callable[..., Any], kube_api: ApiServer, operator_emulator: OperatorEmulator
) -> None:
    request = make_request(slow_sql(40, 20), "k8s-reattach")
    first = attach_or_submit(make_target(), request)
    assert first.action == "submit"

    # The worker dies; a new one (new target, no state) runs the same task instance.
    second = attach_or_submit(make_target(), request)

    assert second.action == "reattach" and second.handle == first.handle
    key = request.identity.key
    mine = [r for r in resources(kube_api) if (r["metadata"].get("labels") or {}).get("flinkbatch/identity") == key]
    assert len(mine) == 1
    event = wait_for_event(make_target().trigger(second.handle, WAIT))
    assert event["state"] == "FINISHED" and event["summary"]["vertices_finished"] >= 1
    submissions = [h for h in operator_emulator.history if h[2] == request.job_id and h[3] == "UPGRADING"]
    assert len(submissions) == 1  # the job ran once
    print(f"K8S-E2E reattach: {second.handle.ref} job {request.job_id} {event['state']}")


@pytest.mark.parametrize("stopped_by", ["on-kill", "mark-listener"])
def test_cancel_on_kill_suspends_the_resource_and_flink_cancels_the_job(
    make_target: Callable[..., Any], kube_api: ApiServer, flink_cluster: LocalClusterInfo, stopped_by: str
) -> None:
    """``on-kill``: the triggerer's call when the user marks the deferred task; ``mark-listener``: the api-server's
    for a task marked before a triggerer ran its trigger (rebuilt from the stored trigger)."""
    target = make_target()
    handle = attach_or_submit(target, make_request(slow_sql(4000, 20), f"k8s-kill-{stopped_by}")).handle
    wait_until(lambda: target.job_details(handle)["state"] == "RUNNING", "the job to run")
    trigger = target.trigger(handle, WAIT)

    if stopped_by == "on-kill":
        asyncio.run(trigger.on_kill())
    else:
        classpath, kwargs = trigger.serialize()
        cancel_stored_trigger(classpath, kwargs, "dag.task (run)")

    event = wait_for_event(trigger)
    assert event["state"] == "CANCELED"
    wait_until(  # the operator's REST cancel (it deletes the JobManager right after asking)
        lambda: (
            requests.get(f"{flink_cluster.rest_url}/jobs/{handle.job_id}", timeout=10).json()["state"] == "CANCELED"
        ),
        "Flink to cancel the job",
    )
    resource = wait_until(
        lambda: (r := resource_of(kube_api, handle)) and r["status"].get("lifecycleState") == "SUSPENDED" and r,
        "the operator to mark the resource SUSPENDED",
    )
    assert resource["spec"]["job"]["state"] == "suspended"  # kept, not deleted: its status stays readable
    # The operator stores FINISHED for a suspended FlinkDeployment; the task still reads it as CANCELED.
    assert resource["status"]["jobStatus"]["state"] == "FINISHED"
    assert target.job_details(handle)["state"] == "CANCELED"
    print(f"K8S-E2E cancel: {handle.ref} job {handle.job_id} {event['state']}")


def test_big_script_runs_from_an_owned_configmap_and_cleanup_removes_both(
    make_target: Callable[..., Any], kube_api: ApiServer
) -> None:
    target = make_target(inline_sql_max_bytes=256)
    padding = " OR ".join(f"id = {n}" for n in range(300))
    sql = slow_sql(10, 1000).replace("FROM slow_source;", f"FROM slow_source WHERE id IS NOT NULL OR {padding};")
    handle = attach_or_submit(target, make_request(sql, "k8s-configmap")).handle
    resource = resource_of(kube_api, handle)
    assert resource is not None and resource["spec"]["job"]["args"][0] == "--statements-file"
    config_map = config_maps(kube_api)[f"{str(handle.ref).split('/')[1]}-sql"]
    assert [(o.kind, o.uid) for o in config_map.metadata.owner_references] == [
        ("FlinkDeployment", resource["metadata"]["uid"])
    ]

    event = wait_for_event(target.trigger(handle, WAIT))
    assert event["state"] == "FINISHED"
    target.after_terminal(handle, "FINISHED")

    assert resource_of(kube_api, handle) is None
    assert config_map.metadata.name not in config_maps(kube_api)


def test_session_job_runs_on_the_session_deployment(
    make_target: Callable[..., Any], session_cluster: str, kube_api: ApiServer, flink_cluster: LocalClusterInfo
) -> None:
    target = make_target(mode="session", session_deployment="shared-session", image=None)
    handle = attach_or_submit(target, make_request(slow_sql(10, 1000), "k8s-session")).handle
    assert resource_of(kube_api, handle, "flinksessionjobs") is not None

    event = wait_for_event(target.trigger(handle, WAIT))

    assert event["state"] == "FINISHED"
    # The operator chose the Flink job id (the one the provider asked for is ignored): every Flink call follows it.
    stored = resource_of(kube_api, handle, "flinksessionjobs")
    assert stored is not None
    flink_job_id = stored["status"]["jobStatus"]["jobId"]
    assert event["flink_job_id"] == flink_job_id != handle.job_id
    assert requests.get(f"{flink_cluster.rest_url}/jobs/{flink_job_id}", timeout=10).json()["state"] == "FINISHED"
    assert target.job_details(handle)["jid"] == flink_job_id
    target.after_terminal(handle, "FINISHED")
    assert resource_of(kube_api, handle, "flinksessionjobs") is None
    # Cleanup never touches resources it did not create: the session deployment survives a full sweep.
    swept = make_target().sweep(now=time.time() + 10 * 365 * 86400)
    assert "shared-session" not in swept
    assert any(r["metadata"]["name"] == "shared-session" for r in resources(kube_api))
    print(f"K8S-E2E session: {handle.ref} job {handle.job_id} {event['state']}; sweep deleted {swept}")


def test_resource_deleted_while_watched_ends_the_wait_with_a_clear_error(
    make_target: Callable[..., Any], kube_api: ApiServer, flink_cluster: LocalClusterInfo
) -> None:
    from kubernetes import client

    target = make_target()
    handle = attach_or_submit(target, make_request(slow_sql(4000, 20), "k8s-deleted")).handle
    wait_until(lambda: target.job_details(handle)["state"] == "RUNNING", "the job to run")
    name = str(handle.ref).split("/")[1]
    client.CustomObjectsApi(kube_api.api_client()).delete_namespaced_custom_object(
        "flink.apache.org", "v1beta1", NAMESPACE, "flinkdeployments", name
    )

    event = wait_for_event(target.trigger(handle, WAIT))

    # Deleting cancels the job (the operator's finalizer): the task sees a cancellation saying so.
    assert (event["status"], event["state"], event["job_id"]) == ("terminal", "CANCELED", handle.job_id)
    assert event["message"].startswith(f"the Flink resource {handle.ref} was deleted while the job was being watched")
    # like the operator's finalizer, deleting the resource stopped the job
    wait_until(
        lambda: (
            requests.get(f"{flink_cluster.rest_url}/jobs/{handle.job_id}", timeout=10).json()["state"] == "CANCELED"
        ),
        "the job to be cancelled",
    )


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "inline_sql_max_bytes": 16,
            "pod_template": {"apiVersion": "v1", "kind": "Pod", "spec": {"nodeSelector": {"pool": "batch"}}},
        },
        {"mode": "session", "session_deployment": "shared-session", "image": None},
    ],
    ids=["application-inline", "application-configmap-podtemplate", "session-job"],
)
def test_the_real_apiserver_stores_rendered_resources_unchanged(
    make_target: Callable[..., Any], kube_api: ApiServer, overrides: dict[str, Any]
) -> None:
    """Structural CRD schemas prune unknown fields silently: stored == rendered proves every field is known."""
    from kubernetes import client

    target = make_target(**overrides, name_prefix="stored")
    manifests = target.render(make_request(slow_sql(5), "k8s-stored"))
    api = client.CustomObjectsApi(kube_api.api_client())
    body = {
        **manifests.custom_resource,
        "spec": {
            **manifests.custom_resource["spec"],
            "job": {**manifests.custom_resource["spec"]["job"], "state": "suspended"},
        },
    }  # the emulator leaves it alone
    created = api.create_namespaced_custom_object("flink.apache.org", "v1beta1", NAMESPACE, manifests.plural, body)
    try:
        assert created["spec"] == body["spec"]
        assert {k: created["metadata"][k] for k in ("labels", "annotations")} == {
            k: body["metadata"][k] for k in ("labels", "annotations")
        }
    finally:
        api.delete_namespaced_custom_object("flink.apache.org", "v1beta1", NAMESPACE, manifests.plural, manifests.name)
