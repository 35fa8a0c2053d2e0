"""FlinkKubernetesTrigger's shared polling on the REAL kube-apiserver.

Deferred triggers of one event loop share one LIST per namespace and kind per cycle (label selector on
the provider's label) instead of one GET per resource; a resource that leaves the LIST (deleted) and a
refused LIST give each trigger the outcome its own GET gives. Requests are counted by a proxy in front
of the API server. The statuses are the operator's frames (``frames.py``, from the batch status facts),
written through the status subresource as the operator writes them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from counting_proxy import CountingProxy
from k8s.apiserver import TOKEN, ApiServer
from k8s.frames import DELETED, JOB_FAILED_ERROR, JOB_FAILED_MESSAGE, JOB_ID, frame

from airflow_provider_flinkbatch.kubernetes.manifests import MANAGED_BY, MANAGED_BY_LABEL
from airflow_provider_flinkbatch.triggers.kubernetes import FlinkKubernetesTrigger

pytestmark = pytest.mark.integration
NS = "flink-coalesced"
CONN_ID = "kubernetes_counted"
API = "/apis/flink.apache.org/v1beta1/namespaces/" + NS
KINDS = {"flinkdeployments": "FlinkDeployment", "flinksessionjobs": "FlinkSessionJob"}


@pytest.fixture(scope="module")
def objects(kube_api: ApiServer) -> Any:
    from kubernetes import client

    core = client.CoreV1Api(kube_api.api_client())
    try:
        core.create_namespace({"metadata": {"name": NS}})
    except client.exceptions.ApiException as err:
        if err.status != 409:
            raise
    return client.CustomObjectsApi(kube_api.api_client())


@pytest.fixture
def counted(kube_api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingProxy]:
    """A Kubernetes connection whose API server is a counting proxy in front of the real one."""
    proxy = CountingProxy(kube_api.url).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": proxy.url}}],
                "users": [{"name": "u", "user": {"token": TOKEN}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    conn = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    try:
        yield proxy
    finally:
        proxy.stop()


def create(objects: Any, plural: str, name: str, status: dict[str, Any]) -> None:
    spec: dict[str, Any] = {"job": {"jarURI": "local:///opt/flink/usrlib/runner.jar", "upgradeMode": "stateless"}}
    if plural == "flinksessionjobs":
        spec["deploymentName"] = "session-cluster"
    else:
        spec.update({"image": "flink:2.3", "flinkVersion": "v2_3", "serviceAccount": "flink"})
    body = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": KINDS[plural],
        "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}},
        "spec": spec,
    }
    objects.create_namespaced_custom_object("flink.apache.org", "v1beta1", NS, plural, body)
    write_status(objects, plural, name, status)


def write_status(objects: Any, plural: str, name: str, status: dict[str, Any]) -> None:
    """A full replace of ``.status`` through the status subresource, as the operator writes it."""
    item = objects.get_namespaced_custom_object("flink.apache.org", "v1beta1", NS, plural, name)
    objects.replace_namespaced_custom_object_status(
        "flink.apache.org", "v1beta1", NS, plural, name, {**item, "status": status}
    )


def delete(objects: Any, plural: str, name: str) -> None:
    from kubernetes import client

    try:
        objects.delete_namespaced_custom_object("flink.apache.org", "v1beta1", NS, plural, name)
    except client.exceptions.ApiException as err:
        if err.status != 404:
            raise


def trigger(plural: str, name: str, coalesce: bool = True) -> FlinkKubernetesTrigger:
    return FlinkKubernetesTrigger(
        job_id=JOB_ID,
        ref=f"{NS}/{name}",
        plural=plural,
        kubernetes_conn_id=CONN_ID,
        poll_interval=0.3,
        transient_error_budget=20,
        coalesce=coalesce,
    )


async def event_of(trigger: FlinkKubernetesTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("no event")


RUNNING = frame("STABLE", "READY", "RUNNING")


def test_waiting_triggers_share_one_list_per_namespace_and_kind_per_cycle(objects: Any, counted: CountingProxy) -> None:
    resources = [("flinkdeployments", f"shared-fd-{i}") for i in range(6)]
    resources += [("flinksessionjobs", f"shared-fsj-{i}") for i in range(3)]
    for plural, name in resources:
        create(objects, plural, name, RUNNING)
    ends = {  # how each one ends: the operator's frames, or a delete
        "shared-fd-0": frame("STABLE", "READY", "FINISHED"),
        "shared-fd-1": frame("FAILED", "READY", "FAILED", JOB_FAILED_ERROR),
        "shared-fd-2": None,
        "shared-fd-3": frame("STABLE", "READY", "FINISHED"),
        "shared-fd-4": frame("STABLE", "READY", "CANCELED"),
        "shared-fd-5": None,
        "shared-fsj-0": frame("STABLE", job="FINISHED"),
        "shared-fsj-1": frame("STABLE", job="FAILED"),
        "shared-fsj-2": None,
    }

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, int]]:
        waits = [asyncio.create_task(event_of(trigger(plural, name))) for plural, name in resources]
        await asyncio.sleep(1.5)  # every trigger subscribed
        since = time.monotonic()
        while counted.count("GET", f"{API}/flinkdeployments", since) < 4:  # four cycles
            await asyncio.sleep(0.1)
        until = time.monotonic()
        seen = {
            "fd lists": counted.count("GET", f"{API}/flinkdeployments", since, until),
            "fsj lists": counted.count("GET", f"{API}/flinksessionjobs", since, until),
            "gets": counted.count("GET", f"{API}/flinkdeployments/", since, until)
            + counted.count("GET", f"{API}/flinksessionjobs/", since, until),
        }
        for plural, name in resources:
            status = ends[name]
            if status is None:
                await asyncio.to_thread(delete, objects, plural, name)
            else:
                await asyncio.to_thread(write_status, objects, plural, name, status)
        return list(await asyncio.wait_for(asyncio.gather(*waits), 60)), seen

    try:
        events, seen = asyncio.run(scenario())
    finally:
        for plural, name in resources:
            delete(objects, plural, name)

    # one LIST per kind per cycle for nine triggers, no GET while they wait
    assert seen["fd lists"] >= 4 and abs(seen["fsj lists"] - seen["fd lists"]) <= 1 and seen["gets"] == 0
    outcomes = {
        name: (event["status"], event["state"], event.get("message"))
        for (_, name), event in zip(resources, events, strict=True)
    }
    for name in ("shared-fd-0", "shared-fd-3", "shared-fsj-0"):
        assert outcomes[name] == ("terminal", "FINISHED", None)
    assert outcomes["shared-fd-1"] == ("terminal", "FAILED", JOB_FAILED_MESSAGE)
    assert outcomes["shared-fd-4"][:2] == ("terminal", "CANCELED")
    assert outcomes["shared-fsj-1"][:2] == ("terminal", "FAILED")
    for name in ("shared-fd-2", "shared-fd-5", "shared-fsj-2"):  # dropped out of the LIST: its GET says 404
        assert outcomes[name] == ("terminal", "CANCELED", DELETED.format(ref=f"{NS}/{name}"))
    for plural, name in resources:  # a deleted resource costs one GET (the 404); the others none
        assert counted.count("GET", f"{API}/{plural}/{name}") == (1 if ends[name] is None else 0)


def test_a_refused_list_and_a_missing_resource_end_as_with_own_gets(objects: Any, counted: CountingProxy) -> None:
    create(objects, "flinkdeployments", "refused-fd-0", frame("STABLE", "READY", "FINISHED"))
    never_created = "refused-fd-missing"

    def outcomes(coalesce: bool) -> list[dict[str, Any]]:
        async def both() -> list[dict[str, Any]]:
            return list(
                await asyncio.gather(
                    event_of(trigger("flinkdeployments", "refused-fd-0", coalesce)),
                    event_of(trigger("flinkdeployments", never_created, coalesce)),
                )
            )

        return asyncio.run(asyncio.wait_for(both(), 60))

    try:
        own = outcomes(coalesce=False)
        shared = outcomes(coalesce=True)
        counted.refuse[("GET", f"{API}/flinkdeployments")] = 403  # RBAC allows GET but not LIST, say
        refused = outcomes(coalesce=True)
    finally:
        delete(objects, "flinkdeployments", "refused-fd-0")

    assert (own[0]["status"], own[0]["state"]) == ("terminal", "FINISHED")
    assert (own[1]["status"], own[1]["state"]) == ("terminal", "CANCELED")
    assert own[1]["message"] == DELETED.format(ref=f"{NS}/{never_created}")
    assert shared == own
    assert refused == own
