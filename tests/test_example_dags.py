"""The shipped example DAG runs end to end on local Flink (what README's demo runs)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from conftest import RunDag, xcom_value

from airflow_provider_flinkbatch.local import LocalClusterInfo

EXAMPLES = Path(__file__).resolve().parents[1] / "example_dags"


@pytest.mark.integration
def test_flink_batch_sql_local(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    dag_run, tis = run_dag("flink_batch_sql_local", EXAMPLES)

    assert {task: ti.state for task, ti in tis.items()} == dict.fromkeys(
        ("prepare_input", "daily_revenue", "show_results"), "success"
    )
    # daily_revenue is deferrable, and its job is short: it ends within the defer grace, in the worker, so the
    # task never defers (the Airflow 3.3 defer race of short jobs cannot hit it; docs/identity.md)
    assert "[DAG TEST] running trigger in line" not in caplog.text
    assert xcom_value(dag_run, "show_results") == {
        "revenue_by_country": ["DE,2,200.75", "FR,2,185.00", "US,2,429.99"],
        # order 5 (150.00, FR) is excluded by its note 'test order; ignore'
        "large_orders": ["1,DE,120.50", "4,US,410.00"],
    }
    summary = xcom_value(dag_run, "daily_revenue")
    assert summary["state"] == "FINISHED" and summary["name"] == "example.daily_revenue"
    assert xcom_value(dag_run, "daily_revenue", "_link_FlinkJobLink").startswith(flink_cluster.rest_url)


def test_kubernetes_migration_examples_parse_and_render_on_the_users_deployment(airflow_db: None) -> None:
    """Both migration DAGs parse; the application_file DAG renders a CRD-valid FlinkDeployment on the YAML's base."""
    from conftest import load_dag

    from airflow_provider_flinkbatch.identity import JobIdentity
    from airflow_provider_flinkbatch.kubernetes import manifests
    from airflow_provider_flinkbatch.kubernetes.options import KubernetesTargetOptions
    from airflow_provider_flinkbatch.kubernetes.schema import validate_resource
    from airflow_provider_flinkbatch.targets.base import JobRequest
    from airflow_provider_flinkbatch.targets.registry import validate_target_options

    sensor = load_dag("flink_batch_kubernetes_upstream", EXAMPLES).get_task("wait_for_job")
    assert (sensor.application_name, sensor.namespace) == ("daily-revenue", "flink-jobs")
    task = load_dag("flink_batch_kubernetes_application_file", EXAMPLES).get_task("daily_revenue")
    options = validate_target_options(task.target, task.target_options)
    assert isinstance(options, KubernetesTargetOptions) and options.namespace == "flink-jobs"
    identity = JobIdentity(dag_id="d", task_id="t", run_id="r", fingerprint="0" * 16)
    request = JobRequest(statements=["INSERT INTO t SELECT 1"], flink_config={}, job_name="j", identity=identity)
    resource = manifests.render(request, options).custom_resource
    validate_resource(resource)
    spec = resource["spec"]
    assert spec["image"] == "registry.example.com/flink:2.3-sql" and spec["taskManager"]["replicas"] == 2
    assert spec["podTemplate"]["spec"]["nodeSelector"] == {"pool": "batch"}
    assert spec["flinkConfiguration"]["execution.runtime-mode"] == "BATCH"
    assert resource["metadata"]["labels"]["team"] == "sales-analytics"
