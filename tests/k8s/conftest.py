"""Fixtures of the Kubernetes target tests: a real kube-apiserver, the operator emulator, connections."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from k8s.apiserver import ApiServer, ApiServerUnavailable, build, start
from k8s.emulator import OperatorEmulator

from airflow_provider_flinkbatch.local import LocalClusterInfo

NAMESPACE = "flink-jobs"
K8S_CONN_ID = "kubernetes_test"
IMAGE = "flink:2.3-flinkbatch"


@pytest.fixture(scope="session")
def kube_api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """A real kube-apiserver + etcd with the operator's CRDs (built once, cached; skips, printing why)."""
    try:
        server = start(build(), tmp_path_factory.mktemp("kube-apiserver"))
    except ApiServerUnavailable as err:
        if os.environ.get("CI") == "true":  # under CI a real component that cannot start fails the run
            pytest.fail(f"kube-apiserver unavailable under CI=true: {err}", pytrace=False)
        message = f"kube-apiserver unavailable, Kubernetes tests skipped: {err}"
        # Printed past output capture, so a skipped run says why even without -rs.
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        capture = request.config.pluginmanager.get_plugin("capturemanager")
        if reporter is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line("\n" + message, yellow=True, bold=True)
        pytest.skip(message)
    try:
        from kubernetes import client

        client.CoreV1Api(server.api_client()).create_namespace({"metadata": {"name": NAMESPACE}})
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def operator_emulator(
    kube_api: ApiServer, flink_cluster: LocalClusterInfo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorEmulator]:
    """The Flink Kubernetes Operator, emulated on the real local Flink cluster (see ``emulator.py``)."""
    from airflow_provider_flinkbatch.rest.client import FlinkRestClient
    from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
    from airflow_provider_flinkbatch.session.target import SessionTarget

    session = SessionTarget(FlinkRestClient(FlinkConnectionSettings(rest_url=flink_cluster.rest_url)), "unused")
    emulator = OperatorEmulator(
        api_client=kube_api.api_client(),
        namespace=NAMESPACE,
        flink_rest_url=flink_cluster.rest_url,
        runner_jar_id=session.runner_jar_id(),
        staging_dir=tmp_path_factory.mktemp("emulated-mounts"),
    ).start()
    try:
        yield emulator
    finally:
        emulator.stop()
    assert not emulator.errors, emulator.errors
    assert not emulator.dropped, emulator.dropped  # every status written was stored as written


@pytest.fixture
def k8s_conn(kube_api: ApiServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """An Airflow Kubernetes connection (cncf-kubernetes) with the kubeconfig of the test apiserver."""
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{K8S_CONN_ID.upper()}",
        json.dumps({"conn_type": "kubernetes", "extra": {"kube_config_path": str(kube_api.kubeconfig)}}),
    )
    return K8S_CONN_ID


@pytest.fixture
def k8s_env(
    k8s_conn: str, flink_conn: str, operator_emulator: OperatorEmulator, flink_cluster: LocalClusterInfo
) -> dict[str, Any]:
    """Everything a Kubernetes-target test needs: the options the tests' target uses by default."""
    return {
        "kubernetes_conn_id": k8s_conn,
        "namespace": NAMESPACE,
        "image": IMAGE,
        # The emulated JobManager is the local cluster: the same REST API the real one serves.
        "rest_url_template": flink_cluster.rest_url,
        "ui_url_template": flink_cluster.rest_url + "/?deployment={namespace}/{name}",
    }


@pytest.fixture
def session_cluster(kube_api: ApiServer, operator_emulator: OperatorEmulator) -> str:
    """The session FlinkDeployment ``shared-session`` FlinkSessionJobs run on (created once, shared by the tests)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    body = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "shared-session"},
        "spec": {"image": "flink:2.3", "flinkVersion": "v2_3", "serviceAccount": "flink"},
    }
    try:
        client.CustomObjectsApi(kube_api.api_client()).create_namespaced_custom_object(
            "flink.apache.org", "v1beta1", NAMESPACE, "flinkdeployments", body
        )
    except ApiException as err:
        if err.status != 409:
            raise
    return "shared-session"


@pytest.fixture
def k8s_dags(k8s_env: dict[str, Any], flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The DAGs of ``tests/dags/flinkbatch_k8s_dags.py`` read the emulated JobManager's REST URL when parsed."""
    monkeypatch.setenv("FLINKBATCH_TEST_K8S_REST_URL", flink_cluster.rest_url)


@pytest.fixture
def make_target(k8s_env: dict[str, Any], flink_conn: str) -> Callable[..., Any]:
    """``make_target(**option_overrides)`` -> a KubernetesTarget built the way the operator builds it."""
    from airflow_provider_flinkbatch.rest.client import RetryPolicy
    from airflow_provider_flinkbatch.targets.registry import create_target

    def make(**overrides: Any) -> Any:
        options = {**k8s_env, **overrides}
        return create_target(
            "kubernetes", flink_conn, {k: v for k, v in options.items() if v is not None}, RetryPolicy(budget=20)
        )

    return make


def resources(kube_api: ApiServer, plural: str = "flinkdeployments") -> list[dict[str, Any]]:
    from kubernetes import client

    api = client.CustomObjectsApi(kube_api.api_client())
    return list(api.list_namespaced_custom_object("flink.apache.org", "v1beta1", NAMESPACE, plural)["items"])
