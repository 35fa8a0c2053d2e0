"""Example: the same kind of batch SQL job on Kubernetes, one FlinkDeployment per run (Flink Kubernetes Operator).

Needs a cluster with the operator installed, an Airflow Kubernetes connection (``kubernetes_default``:
in-cluster, kubeconfig or context) and an image holding the SQL runner jar at
``/opt/flink/usrlib/flinkbatch-sql-runner.jar`` (see ``docs/kubernetes.md``). Review what it applies with::

    flinkbatch render --target kubernetes example_dags/sql/daily_revenue_s3.sql --dag-id flink_batch_sql_kubernetes \\
        --target-options '{"image": "registry.example.com/flink:2.3-sql", "namespace": "flink-jobs"}'
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

KUBERNETES = {
    "kubernetes_conn_id": "kubernetes_default",
    "namespace": "flink-jobs",
    "image": "registry.example.com/flink:2.3-sql",
    "service_account": "flink",
    "job_manager": {"cpu": 1, "memory": "2048m"},
    "task_manager": {"cpu": 2, "memory": "4096m"},
    "task_manager_replicas": 2,
    "flink_configuration": {"taskmanager.numberOfTaskSlots": 4, "s3.endpoint": "https://s3.example.com"},
    "pod_template": {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {"nodeSelector": {"pool": "batch"}, "tolerations": [{"key": "batch", "operator": "Exists"}]},
    },
    "rest_url_template": "http://{name}-rest.{namespace}:8081",
    "ui_url_template": "https://flink.example.com/{namespace}/{name}/",
    "keep_failed_hours": 48,
}

with DAG("flink_batch_sql_kubernetes", schedule="@daily", start_date=datetime(2026, 1, 1), catchup=False):
    FlinkBatchSqlOperator(
        task_id="daily_revenue",
        sql="sql/daily_revenue_s3.sql",
        job_name="sales.daily_revenue",
        presets=["adaptive-batch"],
        target="kubernetes",
        target_options=KUBERNETES,
        deferrable=True,
        poll_interval=15,
    )
