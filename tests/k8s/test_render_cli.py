"""``flinkbatch render --target kubernetes``: the manifests a task would apply, checked against the CRDs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.kubernetes.schema import validate_resource

SQL = """
CREATE TEMPORARY TABLE s (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '5');
CREATE TEMPORARY TABLE t (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO t SELECT id FROM s;
"""


def test_render_prints_valid_manifests_with_the_sql_in_a_configmap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "daily_revenue.sql"
    script.write_text(SQL)
    options = tmp_path / "k8s.yaml"
    options.write_text("image: registry.example.com/flink:2.3-sql\nnamespace: analytics\ninline_sql_max_bytes: 64\n")

    code = main(
        [
            "render",
            "--target",
            "kubernetes",
            str(script),
            "--dag-id",
            "sales",
            "--target-options",
            f"@{options}",
            "--flink-config",
            "parallelism.default=4",
            "--archive-dir",
            "s3://bucket/archive",
        ]
    )

    out, err = capsys.readouterr()
    assert code == 0
    deployment, config_map = yaml.safe_load_all(out)
    validate_resource(deployment)
    assert "valid against the operator's CRD schema" in err
    assert deployment["metadata"]["name"].startswith("sales-daily-revenue-")
    assert deployment["metadata"]["namespace"] == "analytics"
    assert deployment["spec"]["flinkConfiguration"]["parallelism.default"] == "4"
    assert deployment["spec"]["flinkConfiguration"]["jobmanager.archive.fs.dir"] == "s3://bucket/archive"
    assert (
        config_map["kind"] == "ConfigMap"
        and config_map["metadata"]["ownerReferences"][0]["name"] == (deployment["metadata"]["name"])
    )


def test_render_session_job_inline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "job.sql"
    script.write_text(SQL)
    options = json.dumps({"mode": "session", "session_deployment": "shared", "jar_uri": "https://repo/runner.jar"})

    assert main(["render", "--target", "kubernetes", str(script), "--target-options", options]) == 0

    [session_job] = yaml.safe_load_all(capsys.readouterr().out)
    validate_resource(session_job)
    assert session_job["kind"] == "FlinkSessionJob" and session_job["spec"]["deploymentName"] == "shared"


def test_render_names_a_bad_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "job.sql"
    script.write_text(SQL)

    assert main(["render", "--target", "kubernetes", str(script), "--target-options", '{"imag": "x"}']) == 1

    assert "imag: Extra inputs are not permitted" in capsys.readouterr().err


def test_example_kubernetes_dag_parses_and_renders_valid_manifests(
    airflow_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped example's target_options are valid, and what they render is valid for the operator."""
    from conftest import load_dag

    examples = Path(__file__).resolve().parents[2] / "example_dags"
    task = load_dag("flink_batch_sql_kubernetes", examples).get_task("daily_revenue")
    sql = examples / "sql" / "daily_revenue_s3.sql"
    capsys.readouterr()  # drop the DAG parser's log lines

    code = main(
        [
            "render",
            "--target",
            "kubernetes",
            str(sql),
            "--dag-id",
            "flink_batch_sql_kubernetes",
            "--task-id",
            task.task_id,
            "--target-options",
            json.dumps(task.target_options),
        ]
    )

    assert code == 0
    [deployment] = yaml.safe_load_all(capsys.readouterr().out)
    validate_resource(deployment)
    assert deployment["spec"]["podTemplate"]["spec"]["nodeSelector"] == {"pool": "batch"}
    assert deployment["spec"]["taskManager"] == {"resource": {"cpu": 2.0, "memory": "4096m"}, "replicas": 2}


def test_render_merges_into_the_users_application_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The FlinkDeployment a user keeps for the upstream operator is the base; render shows the merged result."""
    script = tmp_path / "daily_revenue.sql"
    script.write_text(SQL)
    base = tmp_path / "flink-deployment.yaml"
    base.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "flink.apache.org/v1beta1",
                "kind": "FlinkDeployment",
                "metadata": {"name": "daily", "namespace": "analytics"},
                "spec": {
                    "image": "registry.example.com/flink:2.3-platform",
                    "serviceAccount": "platform",
                    "flinkConfiguration": {"taskmanager.numberOfTaskSlots": "8"},
                    "taskManager": {"replicas": 4, "resource": {"cpu": 2, "memory": "8g"}},
                },
            }
        )
    )

    code = main(
        ["render", "--target", "kubernetes", str(script), "--dag-id", "sales", "--target-options",
         json.dumps({"application_file": str(base)})]
    )  # fmt: skip

    out, _ = capsys.readouterr()
    assert code == 0
    [deployment] = yaml.safe_load_all(out)
    validate_resource(deployment)
    spec = deployment["spec"]
    assert deployment["metadata"]["namespace"] == "analytics" and deployment["metadata"]["name"] != "daily"
    assert (spec["image"], spec["serviceAccount"]) == ("registry.example.com/flink:2.3-platform", "platform")
    assert spec["taskManager"]["replicas"] == 4 and spec["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] == "8"
    assert (
        spec["job"]["entryClass"] == "FlinkBatchSqlRunner"
        and spec["flinkConfiguration"]["execution.runtime-mode"] == "BATCH"
    )
