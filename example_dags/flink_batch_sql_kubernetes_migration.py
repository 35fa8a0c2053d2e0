"""Example: moving from apache-airflow-providers-apache-flink's FlinkKubernetesOperator + FlinkKubernetesSensor.

``kubernetes/flink-deployment.yaml`` is the ``application_file`` such a DAG already has. Two steps, each a DAG here
(``docs/kubernetes.md``, "Migrating from apache-airflow-providers-apache-flink"):

1. ``flink_batch_kubernetes_upstream``: keep the upstream operator, replace its sensor. The upstream
   ``FlinkKubernetesSensor`` succeeds once the JobManager is READY (before a batch job ran; also for a job that
   FAILED); ``FlinkKubernetesBatchSensor`` succeeds only when the job FINISHED and fails with the root cause.
2. ``flink_batch_kubernetes_application_file``: run the SQL with ``FlinkBatchSqlOperator``, the same YAML as the
   base of each attempt's FlinkDeployment (image, pods, resources, service account and Flink options stay the
   platform team's; the provider adds the job, batch mode, identity, reattach, cleanup and diagnosis).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from airflow.providers.apache.flink.operators.flink_kubernetes import FlinkKubernetesOperator
from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.sensors.kubernetes import FlinkKubernetesBatchSensor

DEPLOYMENT = Path(__file__).parent / "kubernetes" / "flink-deployment.yaml"

with DAG("flink_batch_kubernetes_upstream", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False):
    create = FlinkKubernetesOperator(
        task_id="create_deployment",
        application_file=DEPLOYMENT.read_text(),
        namespace="flink-jobs",
        kubernetes_conn_id="kubernetes_default",
    )
    # was: FlinkKubernetesSensor(task_id="wait", application_name="daily-revenue", namespace="flink-jobs")
    wait = FlinkKubernetesBatchSensor(
        task_id="wait_for_job",
        application_name="daily-revenue",  # metadata.name of the application_file
        namespace="flink-jobs",
        kubernetes_conn_id="kubernetes_default",
        rest_url_template="http://{name}-rest.{namespace}:8081",  # optional: Flink's root cause and progress
        deferrable=True,
        poke_interval=15,
    )
    create >> wait

with DAG("flink_batch_kubernetes_application_file", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False):
    FlinkBatchSqlOperator(
        task_id="daily_revenue",
        sql="sql/daily_revenue_s3.sql",
        job_name="sales.daily_revenue",
        target="kubernetes",
        target_options={
            "application_file": str(DEPLOYMENT),  # read (and checked) when the DAG is parsed
            "kubernetes_conn_id": "kubernetes_default",
            "rest_url_template": "http://{name}-rest.{namespace}:8081",
        },
        deferrable=True,
        poll_interval=15,
    )
