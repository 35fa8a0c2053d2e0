"""The operator emulator plays every case of the batch status facts (``frames.CASES``) through the real
kube-apiserver: the CRD schema stores every status as written (nothing pruned or rejected), and the
provider's trigger, watching each resource as a deferred task would, ends with the case's outcome and message.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from k8s.conftest import NAMESPACE
from k8s.emulator import SCENARIO_ANNOTATION, OperatorEmulator
from k8s.frames import CASES, FSJ, GRACE, JOB_ID, Case

from airflow_provider_flinkbatch.kubernetes.manifests import MANAGED_BY, MANAGED_BY_LABEL
from airflow_provider_flinkbatch.triggers.kubernetes import FlinkKubernetesTrigger

pytestmark = pytest.mark.integration
OUTCOMES = {"FINISHED": "succeeded", "FAILED": "failed", "CANCELED": "cancelled"}
#: Cases where Flink's own answer decides (a status bug); without a JobManager here the status never ends.
FOLLOWED = [c for c in CASES if c.flink_state is None and c.outcome != "running"]


def body(case: Case, name: str, labels: dict[str, str]) -> dict[str, Any]:
    job = {"jarURI": "local:///opt/flink/usrlib/runner.jar", "upgradeMode": "stateless"}
    spec: dict[str, Any] = {"job": job}
    if case.plural == FSJ:
        spec["deploymentName"] = "session-cluster"
        kind = "FlinkSessionJob"
    else:
        spec.update({"image": "flink:2.3", "flinkVersion": "v2_3", "serviceAccount": "flink"})
        kind = "FlinkDeployment"
    annotations = {SCENARIO_ANNOTATION: case.name}
    return {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": kind,
        "metadata": {"name": name, "annotations": annotations, "labels": labels},
        "spec": spec,
    }


@pytest.mark.parametrize("coalesce", [False, True], ids=["own-get", "shared-list"])
def test_every_case_is_stored_as_written_and_the_trigger_reads_its_outcome(
    operator_emulator: OperatorEmulator, kube_api: Any, k8s_conn: str, coalesce: bool
) -> None:
    """``shared-list``: the resources carry the provider's label, so the triggers read them from the shared
    LIST of their kind (a deleted one drops out of it); ``own-get``: one GET per resource, as before."""
    from kubernetes import client

    api = client.CustomObjectsApi(kube_api.api_client())
    names = {case.name: f"facts-{'list' if coalesce else 'get'}-{i}" for i, case in enumerate(CASES)}
    labels = {MANAGED_BY_LABEL: MANAGED_BY} if coalesce else {}
    for case in CASES:
        api.create_namespaced_custom_object(
            "flink.apache.org", "v1beta1", NAMESPACE, case.plural, body(case, names[case.name], labels)
        )
    scale = operator_emulator.frame_scale

    async def follow(case: Case) -> dict[str, Any]:
        trigger = FlinkKubernetesTrigger(
            job_id=JOB_ID,
            ref=f"{NAMESPACE}/{names[case.name]}",
            plural=case.plural,
            kubernetes_conn_id=k8s_conn,
            stall_grace=GRACE * scale,
            poll_interval=min(0.1, scale),
            transient_error_budget=30,
            coalesce=coalesce,
        )
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    async def all_cases() -> list[dict[str, Any]]:
        tasks = {case.name: asyncio.ensure_future(follow(case)) for case in FOLLOWED}
        _, pending = await asyncio.wait(tasks.values(), timeout=120)
        for task in pending:
            task.cancel()
        waiting = [name for name, task in tasks.items() if task in pending]
        assert not waiting, f"no outcome within 120 s: {waiting}; written: {operator_emulator.history[-40:]}"
        return [task.result() for task in tasks.values()]

    try:
        events = asyncio.run(all_cases())

        failures = []
        for case, event in zip(FOLLOWED, events, strict=True):
            ref = f"{NAMESPACE}/{names[case.name]}"
            expected = case.message.format(ref=ref) if case.message else None
            message = re.sub(r"no progress for \d+ s", "no progress for N s", event.get("message") or "") or None
            expected = re.sub(r"no progress for \d+ s", "no progress for N s", expected) if expected else None
            seen = (event["status"], OUTCOMES.get(event.get("state", ""), "running"), message, event.get("retryable"))
            if seen != ("terminal", case.outcome, expected, case.retryable):
                failures.append(f"{case.name}: {seen}")
        assert not failures, "\n".join(failures)

        for player in list(operator_emulator.players.values()):
            player.join(timeout=60)
        written = {(p, n) for p, n, _, _ in operator_emulator.writes}
        for case in CASES:
            frames = [s for _, s in case.frames if s is not None]
            stored = [w for p, n, w, _ in operator_emulator.writes if n == names[case.name]]
            assert stored == frames, case.name  # every frame of the case was written, in order
            assert (case.plural, names[case.name]) in written
        assert not operator_emulator.dropped, operator_emulator.dropped
    finally:
        for case in CASES:  # leave the namespace to the other tests
            if not case.frames or case.frames[-1][1] is not None:
                try:
                    api.delete_namespaced_custom_object(
                        "flink.apache.org", "v1beta1", NAMESPACE, case.plural, names[case.name]
                    )
                except client.exceptions.ApiException as err:
                    if err.status != 404:
                        raise
