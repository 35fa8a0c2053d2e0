"""``application_file``: a user's FlinkDeployment (the one they pass to apache-airflow-providers-apache-flink's
FlinkKubernetesOperator) is the base the rendering merges into; the result validates against the real CRD."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml
from k8s.test_manifests import SQL, request, validate

from airflow_provider_flinkbatch.kubernetes import manifests as m
from airflow_provider_flinkbatch.targets.registry import TargetOptionsError, validate_target_options

#: A FlinkDeployment as the upstream provider's docs and the operator's examples write one.
USER_DEPLOYMENT = """
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata:
  name: basic-example
  namespace: analytics
  labels: {team: data, cost-center: "42"}
  annotations: {owner: data-platform}
spec:
  image: registry.example.com/flink:2.3-platform
  imagePullPolicy: IfNotPresent
  flinkVersion: v2_2
  serviceAccount: flink-jobs
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "4"
    execution.runtime-mode: STREAMING
    s3.secret-key: do-not-store-me
    $internal.pipeline.job-id: 00000000000000000000000000000001
  podTemplate:
    apiVersion: v1
    kind: Pod
    spec:
      nodeSelector: {pool: batch}
      containers:
        - name: flink-main-container
          env: [{name: TZ, value: UTC}]
  jobManager:
    resource: {memory: 4096m, cpu: 2}
    podTemplate:
      apiVersion: v1
      kind: Pod
      spec:
        containers:
          - name: flink-main-container
            volumeMounts: [{name: certs, mountPath: /certs}]
        volumes: [{name: certs, secret: {secretName: certs}}]
  taskManager:
    replicas: 3
    resource: {memory: 8192m, cpu: 4}
  job:
    jarURI: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism: 6
    upgradeMode: savepoint
    state: suspended
"""


def target_options(**values: Any) -> Any:
    return validate_target_options("kubernetes", values)


def test_the_base_keeps_its_platform_settings_and_the_provider_sets_the_job(tmp_path: Path) -> None:
    path = tmp_path / "flink-deployment.yaml"
    path.write_text(USER_DEPLOYMENT)
    options = target_options(application_file=str(path))
    assert options.namespace == "analytics"  # the file's namespace, no option needed

    rendered = m.render(request(), options)
    resource = rendered.custom_resource
    validate(resource)
    spec, meta = resource["spec"], resource["metadata"]
    # the provider's: name (identity), labels, the job, batch mode and the job id
    assert meta["name"] == rendered.name != "basic-example" and meta["namespace"] == "analytics"
    assert meta["labels"][m.MANAGED_BY_LABEL] == m.MANAGED_BY and meta["labels"]["team"] == "data"
    assert meta["annotations"]["owner"] == "data-platform" and m.FINGERPRINT_ANNOTATION in meta["annotations"]
    job = spec["job"]
    assert job["jarURI"] == "local:///opt/flink/usrlib/flinkbatch-sql-runner.jar"
    assert (job["entryClass"], job["upgradeMode"], job["state"]) == ("FlinkBatchSqlRunner", "stateless", "running")
    assert [base64.b64decode(a).decode() for a in job["args"][1::2]] == SQL
    assert job["parallelism"] == 6  # the base's, no parallelism option given
    config = spec["flinkConfiguration"]
    assert config["execution.runtime-mode"] == "BATCH"
    assert config["$internal.pipeline.job-id"] == request().job_id
    assert config["taskmanager.numberOfTaskSlots"] == "4"
    # the base's secret goes to the owned Secret like any secret option, never into the stored spec
    assert "s3.secret-key" not in config and rendered.secret is not None
    assert "do-not-store-me" in rendered.secret["stringData"][m.SECRET_PROPERTIES_KEY]
    # the base's: image, version, account, resources, pod templates
    assert spec["image"] == "registry.example.com/flink:2.3-platform" and spec["imagePullPolicy"] == "IfNotPresent"
    assert (spec["flinkVersion"], spec["serviceAccount"]) == ("v2_2", "flink-jobs")
    assert spec["jobManager"]["resource"] == {"memory": "4096m", "cpu": 2}
    assert spec["taskManager"] == {"replicas": 3, "resource": {"memory": "8192m", "cpu": 4}}
    assert spec["podTemplate"]["spec"]["nodeSelector"] == {"pool": "batch"}
    main = spec["podTemplate"]["spec"]["containers"][0]
    assert main["env"][0] == {"name": "TZ", "value": "UTC"}
    assert main["env"][1]["name"] == "FLINK_PROPERTIES"  # the Secret reaches the pods next to the base's env


def test_explicit_options_win_over_the_base_and_defaults_do_not() -> None:
    options = target_options(
        application_file=yaml.safe_load(USER_DEPLOYMENT),
        image="registry.example.com/flink:2.3-sql",
        service_account="sql-runner",
        task_manager={"cpu": 1, "memory": "2048m"},
        parallelism=2,
        flink_configuration={"taskmanager.numberOfTaskSlots": "1"},
    )
    spec = m.render(request(config={"parallelism.default": "2"}), options).custom_resource["spec"]
    assert (spec["image"], spec["serviceAccount"]) == ("registry.example.com/flink:2.3-sql", "sql-runner")
    assert spec["taskManager"] == {"replicas": 3, "resource": {"cpu": 1.0, "memory": "2048m"}}
    assert spec["jobManager"]["resource"] == {"memory": "4096m", "cpu": 2}  # job_manager not given: the base's
    assert spec["flinkVersion"] == "v2_2"  # the option's default does not override the base
    assert spec["job"]["parallelism"] == 2
    assert spec["flinkConfiguration"]["taskmanager.numberOfTaskSlots"] == "1"
    assert spec["flinkConfiguration"]["parallelism.default"] == "2"


def test_a_big_script_mounts_next_to_the_bases_jobmanager_volumes() -> None:
    big = [*SQL[:2], "INSERT INTO t SELECT id FROM s WHERE id NOT IN (" + ",".join(map(str, range(4000))) + ")"]
    options = target_options(application_file=USER_DEPLOYMENT, inline_sql_max_bytes=1024)
    rendered = m.render(request(big), options)
    validate(rendered.custom_resource)
    pod = rendered.custom_resource["spec"]["jobManager"]["podTemplate"]["spec"]
    assert [v["name"] for v in pod["volumes"]] == ["certs", "flinkbatch-sql"]
    assert [vm["mountPath"] for vm in pod["containers"][0]["volumeMounts"]] == ["/certs", "/opt/flink/flinkbatch-sql"]


@pytest.mark.parametrize(
    ("application_file", "extra", "message"),
    [
        (USER_DEPLOYMENT.replace("kind: FlinkDeployment", "kind: FlinkSessionJob"), {}, "is a FlinkSessionJob"),
        (USER_DEPLOYMENT.replace("flink.apache.org/v1beta1", "apps/v1"), {}, "apiVersion 'apps/v1'"),
        ("- a\n- list\n", {}, "one FlinkDeployment mapping, not list"),
        ("spec: [unclosed\n", {}, "not valid YAML/JSON"),
        ("/nonexistent/flink-deployment.yaml", {}, "cannot be read"),
        (USER_DEPLOYMENT, {"namespace": "other"}, "is for namespace 'analytics' but namespace='other'"),
        (
            USER_DEPLOYMENT,
            {"mode": "session", "session_deployment": "shared"},
            "application_file is a FlinkDeployment base for mode='application'",
        ),
        ("kind: FlinkDeployment\nspec: {}\n", {}, "needs image (or spec.image in application_file)"),
    ],
    ids=["other-kind", "other-group", "not-a-mapping", "bad-yaml", "missing-file", "namespace", "session", "no-image"],
)
def test_a_base_that_cannot_be_merged_fails_at_parse_time_saying_why(
    application_file: str, extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(TargetOptionsError, match=None) as err:
        target_options(application_file=application_file, **extra)
    assert message in str(err.value), str(err.value)
