"""DAGs of the Kubernetes target's integration tests (``tests/k8s``): FlinkDeployments on a real
kube-apiserver, run by the operator emulator on the real local Flink cluster.

The JobManager REST URL of the emulated deployments is the local cluster's, known only when the
tests run: they export it as ``FLINKBATCH_TEST_K8S_REST_URL`` before the DAG is parsed.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.providers.apache.flink.operators.flink_kubernetes import FlinkKubernetesOperator
from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.sensors.kubernetes import FlinkKubernetesBatchSensor

START = datetime(2026, 1, 1)
PARAMS = {"data_dir": "/nonexistent"}
K8S_OPTIONS = {
    "kubernetes_conn_id": "kubernetes_test",
    "namespace": "flink-jobs",
    "image": "flink:2.3-flinkbatch",
    "rest_url_template": os.environ.get("FLINKBATCH_TEST_K8S_REST_URL") or None,
    "ui_url_template": "https://flink.example.com/{namespace}/{name}/",
}

ORDERS = """
CREATE TEMPORARY TABLE orders (order_id BIGINT, country STRING, amount DECIMAL(10, 2), note STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/input/orders.csv', 'format' = 'csv'
);"""

with DAG("it_k8s_success", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="revenue",
        sql=ORDERS
        + """
CREATE TEMPORARY TABLE revenue (country STRING, orders BIGINT, total DOUBLE) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/k8s_revenue', 'format' = 'csv'
);
INSERT INTO revenue SELECT country, COUNT(*), CAST(SUM(amount) AS DOUBLE) FROM orders GROUP BY country;
""",
        job_name="it.k8s.revenue",
        target="kubernetes",
        target_options=K8S_OPTIONS,
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
    )
    FlinkBatchSqlOperator(
        task_id="revenue_blocking",  # waits in the worker instead of the triggerer
        sql=ORDERS
        + """
CREATE TEMPORARY TABLE big (order_id BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/k8s_big', 'format' = 'csv'
);
INSERT INTO big SELECT order_id FROM orders WHERE amount >= 100;
""",
        job_name="it.k8s.big",
        target="kubernetes",
        target_options=K8S_OPTIONS,
        deferrable=False,
        poll_interval=0.5,
    )

with DAG("it_k8s_failure", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="bad_cast",
        sql=ORDERS
        + """
CREATE TEMPORARY TABLE amounts (order_id BIGINT, amount INT) WITH ('connector' = 'blackhole');
INSERT INTO amounts SELECT order_id, CAST(note AS INT) FROM orders;
""",
        flink_config={"table.exec.legacy-cast-behaviour": "DISABLED"},
        job_name="it.k8s.bad_cast",
        target="kubernetes",
        target_options=K8S_OPTIONS,
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
        retries=0,
    )

# apache-airflow-providers-apache-flink's operator creates the FlinkDeployment (the test passes its YAML and name);
# this provider's sensor waits for its batch job, deferred and in the worker.
with DAG("it_k8s_upstream", schedule=None, start_date=START, params={"deployment": "", "name": "unset"}):
    create = FlinkKubernetesOperator(
        task_id="create",
        application_file="{{ params.deployment }}",
        namespace="flink-jobs",
        kubernetes_conn_id="kubernetes_test",
    )
    for task_id, deferrable in (("wait", True), ("wait_blocking", False)):
        create >> FlinkKubernetesBatchSensor(
            task_id=task_id,
            application_name="{{ params.name }}",
            namespace="flink-jobs",
            kubernetes_conn_id="kubernetes_test",
            rest_url_template=K8S_OPTIONS["rest_url_template"],
            deferrable=deferrable,
            poke_interval=0.5,
            retries=0,
        )
