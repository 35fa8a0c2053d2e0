"""Interop with apache-airflow-providers-apache-flink on the real kube-apiserver: its FlinkKubernetesOperator creates
the FlinkDeployment from an application_file, the operator emulator runs it on the real Flink cluster, and this
provider's FlinkKubernetesBatchSensor (deferred: the FlinkKubernetesTrigger; and poking in the worker) reports the
batch job's real outcome. The upstream FlinkKubernetesSensor, polled alongside, succeeds as soon as the JobManager is
READY: while the job still runs, and for a job that FAILED."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import yaml
from conftest import RunDag, slow_sql, xcom_value
from k8s.conftest import NAMESPACE, resources

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, runner_program_args
from airflow_provider_flinkbatch.sql.statements import split_statements

pytestmark = pytest.mark.integration
BAD_CAST = """
CREATE TEMPORARY TABLE notes (note STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '3',
  'fields.note.length' = '5');
CREATE TEMPORARY TABLE amounts (amount INT) WITH ('connector' = 'blackhole');
INSERT INTO amounts SELECT CAST(note AS INT) FROM notes;
"""


def user_deployment(name: str, sql: str) -> str:
    """A FlinkDeployment as a user writes it for the upstream operator, running this provider's SQL runner."""
    return yaml.safe_dump(
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": {"name": name},
            "spec": {
                "image": "flink:2.3",
                "flinkVersion": "v2_3",
                "serviceAccount": "flink",
                "flinkConfiguration": {
                    "execution.runtime-mode": "BATCH",
                    "table.exec.legacy-cast-behaviour": "DISABLED",
                },
                "jobManager": {"resource": {"memory": "2048m", "cpu": 1}},
                "taskManager": {"resource": {"memory": "2048m", "cpu": 1}},
                "job": {
                    "jarURI": "local:///opt/flink/usrlib/flinkbatch-sql-runner.jar",
                    "entryClass": RUNNER_MAIN_CLASS,
                    "args": runner_program_args(split_statements(sql)),
                    "upgradeMode": "stateless",
                },
            },
        }
    )


@dataclass
class UpstreamSensorWatch:
    """apache-airflow-providers-apache-flink's FlinkKubernetesSensor.poke(), called in a loop, with the state
    the Flink job had at that moment (from the real cluster)."""

    name: str
    conn_id: str
    rest_url: str
    kube_api: Any
    pokes: list[tuple[str, str | None]] = field(default_factory=list)  # (what poke() said, Flink's job state)

    def run(self, stop: threading.Event) -> None:
        from airflow.providers.apache.flink.sensors.flink_kubernetes import FlinkKubernetesSensor

        sensor = FlinkKubernetesSensor(
            task_id="upstream", application_name=self.name, namespace=NAMESPACE, kubernetes_conn_id=self.conn_id
        )
        while not stop.is_set():
            if any(r["metadata"]["name"] == self.name for r in resources(self.kube_api)):
                try:
                    said = "success" if sensor.poke({}) else "waiting"
                except Exception as err:  # it raises on MISSING / ERROR
                    said = f"failed: {err}"
                self.pokes.append((said, self.flink_state()))
            stop.wait(0.1)

    def flink_state(self) -> str | None:
        found = [r for r in resources(self.kube_api) if r["metadata"]["name"] == self.name]
        job_id = ((found[0].get("status") or {}).get("jobStatus") or {}).get("jobId") if found else None
        if not job_id:
            return None
        answer = requests.get(f"{self.rest_url}/jobs/{job_id}", timeout=10)
        return str(answer.json()["state"]) if answer.status_code == 200 else None

    def first_success(self) -> str | None:
        """Flink's job state when the upstream sensor first reported success."""
        return next((state for said, state in self.pokes if said == "success"), "never succeeded")


@pytest.fixture
def upstream_watch(k8s_conn: str, kube_api: Any, flink_cluster: LocalClusterInfo) -> Iterator[UpstreamSensorWatch]:
    watch = UpstreamSensorWatch(f"user-app-{uuid.uuid4().hex[:8]}", k8s_conn, flink_cluster.rest_url, kube_api)
    stop = threading.Event()
    thread = threading.Thread(target=watch.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        stop.set()
        thread.join(timeout=30)
        _delete(kube_api, watch.name)  # nobody else cleans up what the upstream operator created


def _delete(kube_api: Any, name: str) -> None:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        client.CustomObjectsApi(kube_api.api_client()).delete_namespaced_custom_object(
            "flink.apache.org", "v1beta1", NAMESPACE, "flinkdeployments", name
        )
    except ApiException as err:
        if err.status != 404:
            raise


def test_upstream_operator_creates_and_our_sensor_waits_for_the_batch_job_to_finish(
    k8s_dags: None,
    run_dag: RunDag,
    upstream_watch: UpstreamSensorWatch,
    flink_cluster: LocalClusterInfo,
) -> None:
    name = upstream_watch.name
    dag_run, tis = run_dag("it_k8s_upstream", deployment=user_deployment(name, slow_sql(80, 20)), name=name)

    assert tis["create"].state == "success"  # the upstream operator class created it
    assert xcom_value(dag_run, "create")["metadata"]["name"] == name
    assert tis["wait"].state == tis["wait_blocking"].state == "success"
    summary = xcom_value(dag_run, "wait")
    assert summary["state"] == "FINISHED" and summary["vertices_total"] >= 1
    assert xcom_value(dag_run, "wait_blocking")["job_id"] == summary["job_id"]
    job = requests.get(f"{flink_cluster.rest_url}/jobs/{summary['job_id']}", timeout=10).json()
    assert job["state"] == "FINISHED"  # ours returned only once Flink's job had finished
    # The upstream sensor said "success" when the JobManager became READY: the batch job had not finished.
    assert upstream_watch.first_success() in (None, "INITIALIZING", "CREATED", "RUNNING"), upstream_watch.pokes
    print(
        f"UPSTREAM success: upstream sensor first succeeded with Flink job {upstream_watch.first_success()}; ours "
        f"FINISHED job {summary['job_id']}; upstream pokes {sorted(set(upstream_watch.pokes), key=str)}"
    )


def test_upstream_sensor_reports_success_for_a_failed_job_ours_fails_with_the_root_cause(
    k8s_dags: None,
    run_dag: RunDag,
    upstream_watch: UpstreamSensorWatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    name = upstream_watch.name
    _, tis = run_dag("it_k8s_upstream", deployment=user_deployment(name, BAD_CAST), name=name)

    assert tis["create"].state == "success"
    assert tis["wait"].state == tis["wait_blocking"].state == "failed"
    log = capfd.readouterr().out
    failures = [line for line in log.splitlines() if "AirflowFailException: Flink job" in line]
    assert len(failures) == 2, log[-3000:]
    for failure in failures:
        assert "FAILED [user_data_error]" in failure and "NumberFormatException" in failure, failure
    # The upstream sensor keeps saying "success": the JobManager of a FAILED job stays READY.
    deadline = time.monotonic() + 10
    while upstream_watch.pokes[-1] != ("success", "FAILED") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert upstream_watch.pokes[-1] == ("success", "FAILED"), upstream_watch.pokes[-5:]
    print(f"UPSTREAM failure: upstream sensor {upstream_watch.pokes[-1]}; ours: {failures[0]}")


def test_the_sensor_refuses_a_bad_name_at_parse_time() -> None:
    from airflow_provider_flinkbatch.sensors.kubernetes import FlinkKubernetesBatchSensor

    with pytest.raises(ValueError, match="'Not_A_Name' is not a valid Kubernetes name"):
        FlinkKubernetesBatchSensor(task_id="t", application_name="Not_A_Name")
    with pytest.raises(ValueError, match="kind"):
        FlinkKubernetesBatchSensor(task_id="t", application_name="ok", kind="Deployment")
