"""Rendered manifests validate against the operator's real CRD schemas; names, labels, config, options."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.kubernetes import manifests as m
from airflow_provider_flinkbatch.kubernetes.options import KubernetesTargetOptions
from airflow_provider_flinkbatch.kubernetes.schema import ManifestSchemaError, validate_resource
from airflow_provider_flinkbatch.rest.client import FlinkRestClient
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobRequest
from airflow_provider_flinkbatch.targets.registry import TargetOptionsError, validate_target_options

SQL = [
    "CREATE TEMPORARY TABLE s (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '5')",
    "CREATE TEMPORARY TABLE t (id BIGINT) WITH ('connector' = 'blackhole')",
    "INSERT INTO t SELECT id FROM s",
]
POD_TEMPLATE = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"labels": {"team": "data"}},
    "spec": {
        "nodeSelector": {"pool": "batch"},
        "containers": [{"name": "flink-main-container", "env": [{"name": "TZ", "value": "UTC"}]}],
    },
}


def validate(resource: dict[str, Any]) -> None:
    """The CRD's openAPIV3Schema, strictly: unknown fields fail (the apiserver would prune them silently)."""
    validate_resource(resource)


def request(statements: list[str] = SQL, attempt: int = 0, config: dict[str, str] | None = None) -> JobRequest:
    identity = JobIdentity(
        dag_id="sales_daily", task_id="revenue.by_country", run_id="manual__2026-01-01", fingerprint="0123456789abcdef"
    )
    return JobRequest(
        statements=statements, flink_config=config or {}, job_name="sales.revenue", identity=identity, attempt=attempt
    )


def options(**values: Any) -> KubernetesTargetOptions:
    return KubernetesTargetOptions.model_validate({"image": "registry.example.com/flink:2.3-sql", **values})


def test_application_deployment_inline_sql_validates_against_the_crd() -> None:
    rendered = m.render(request(config={"parallelism.default": "2"}), options(parallelism=2), archive_dir="s3://b/arch")
    resource = rendered.custom_resource
    validate(resource)
    spec = resource["spec"]
    assert rendered.kind == "FlinkDeployment" and rendered.config_map is None
    assert spec["job"]["jarURI"] == "local:///opt/flink/usrlib/flinkbatch-sql-runner.jar"
    assert spec["job"]["entryClass"] == "FlinkBatchSqlRunner"
    assert spec["job"]["upgradeMode"] == "stateless" and spec["job"]["state"] == "running"
    assert spec["job"]["args"][0] == "--statement-b64" and len(spec["job"]["args"]) == 2 * len(SQL)
    assert spec["flinkVersion"] == "v2_3" and spec["serviceAccount"] == "flink"
    assert spec["flinkConfiguration"]["jobmanager.archive.fs.dir"] == "s3://b/arch"
    assert spec["flinkConfiguration"]["$internal.pipeline.job-id"] == request().job_id


def test_flink_configuration_is_the_session_targets_plus_job_id_and_presets() -> None:
    """One place computes batch mode, job name and identity parameters: both targets send the same."""
    req = request(config={"parallelism.default": "3", "table.exec.resource.default-parallelism": "3"})
    opts = options(flink_configuration={"parallelism.default": 1, "taskmanager.numberOfTaskSlots": 4})
    config = m.render(req, opts).custom_resource["spec"]["flinkConfiguration"]
    session = SessionTarget(FlinkRestClient(FlinkConnectionSettings(rest_url="http://x:8081")), "c")
    expected = {"taskmanager.numberOfTaskSlots": "4", **session.run_body(req)["flinkConfiguration"]}
    assert config == {**expected, "$internal.pipeline.job-id": req.job_id}
    assert config["parallelism.default"] == "3"  # the task's flink_config beats the target preset
    assert "airflow.fingerprint:0123456789abcdef" in config["pipeline.global-job-parameters"]


def test_big_sql_goes_to_an_owned_configmap_mounted_into_the_jobmanager() -> None:
    big = [*SQL[:2], "INSERT INTO t SELECT id FROM s WHERE id NOT IN (" + ",".join(map(str, range(4000))) + ")"]
    rendered = m.render(request(big), options(pod_template=POD_TEMPLATE, inline_sql_max_bytes=1024))
    validate(rendered.custom_resource)
    spec = rendered.custom_resource["spec"]
    assert spec["job"]["args"] == ["--statements-file", "/opt/flink/flinkbatch-sql/statements"]
    assert spec["podTemplate"] == POD_TEMPLATE
    volume = spec["jobManager"]["podTemplate"]["spec"]["volumes"][0]
    assert volume["configMap"]["name"] == rendered.name + "-sql"
    owned = rendered.config_map_owned_by("uid-1")
    assert owned is not None and owned["metadata"]["name"] == rendered.name + "-sql"
    assert owned["metadata"]["ownerReferences"] == [
        {"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment", "name": rendered.name, "uid": "uid-1"}
    ]
    assert owned["metadata"]["labels"][m.MANAGED_BY_LABEL] == m.MANAGED_BY
    import base64

    lines = owned["data"]["statements"].splitlines()
    assert [base64.b64decode(line).decode() for line in lines] == big


def test_session_job_validates_against_the_crd() -> None:
    opts = KubernetesTargetOptions(
        mode="session", session_deployment="shared-session", jar_uri="https://repo.example.com/runner.jar"
    )
    rendered = m.render(request(), opts, archive_dir="s3://b/arch")
    validate(rendered.custom_resource)
    assert rendered.kind == "FlinkSessionJob"
    spec = rendered.custom_resource["spec"]
    assert spec["deploymentName"] == "shared-session"
    assert spec["job"]["jarURI"] == "https://repo.example.com/runner.jar"
    assert "jobmanager.archive.fs.dir" not in spec["flinkConfiguration"]  # the session cluster's own setting


@pytest.mark.parametrize("attempt", [0, 7, 63])
def test_names_are_deterministic_dns_labels_within_the_operators_limit(attempt: int) -> None:
    long = JobIdentity(dag_id="A" * 200, task_id="B_" * 100, run_id="r", fingerprint="f" * 16)
    for identity in (request().identity, long, JobIdentity(dag_id="9", task_id="_", run_id="r", fingerprint="f")):
        name = m.resource_name(identity, attempt)
        assert len(name) <= 45 and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name), name
        assert name == m.resource_name(identity, attempt)
        assert name != m.resource_name(identity, attempt + 1 if attempt < 63 else 0)
    assert m.resource_name(request().identity, 0).startswith("sales-daily-revenue-by-country-")


def test_labels_mark_the_resource_as_ours_and_name_the_attempt() -> None:
    req = request(attempt=2)
    meta = m.render(req, options(labels={"team": "data"})).custom_resource["metadata"]
    assert meta["labels"] == {
        "team": "data",
        m.MANAGED_BY_LABEL: m.MANAGED_BY,
        m.IDENTITY_LABEL: req.identity.key,
        m.ATTEMPT_LABEL: "2",
        m.JOB_ID_LABEL: req.job_id,
    }
    assert meta["annotations"][m.FINGERPRINT_ANNOTATION] == "0123456789abcdef"
    assert meta["annotations"]["flinkbatch/run-id"] == "manual__2026-01-01"


def test_too_big_for_a_configmap_is_refused_with_the_fix() -> None:
    huge = [*SQL[:2], "INSERT INTO t SELECT id FROM s WHERE id NOT IN (" + ",".join(["1234567"] * 150_000) + ")"]
    with pytest.raises(m.ManifestError, match="ConfigMap holds at most"):
        m.render(request(huge), options())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "needs image"),
        ({"image": "i", "imagee": "x"}, "imagee: Extra inputs are not permitted"),
        ({"mode": "session"}, "needs session_deployment"),
        ({"mode": "session", "session_deployment": "s", "image": "i"}, "does not use"),
        ({"image": "i", "namespace": "Flink_Jobs"}, "not a valid Kubernetes name"),
        ({"image": "i", "rest_url_template": "http://{deployment}:8081"}, "unknown placeholder {deployment}"),
        ({"image": "i", "flink_version": "v1_17"}, "flink_version"),
        ({"image": "i", "job_manager": {"memory": "lots"}}, "not a Flink memory size"),
    ],
)
def test_bad_options_fail_at_parse_time_naming_the_field(values: dict[str, Any], message: str) -> None:
    with pytest.raises(TargetOptionsError, match=re.escape(message)):
        validate_target_options("kubernetes", values)


def test_schema_check_catches_what_the_apiserver_would_silently_prune() -> None:
    resource = m.render(request(), options()).custom_resource
    resource["spec"]["job"]["entryclass"] = "typo"
    resource["spec"]["jobManager"]["resource"]["memory"] = 2048
    with pytest.raises(ManifestSchemaError) as err:
        validate(resource)
    assert "spec.job: Additional properties are not allowed ('entryclass' was unexpected)" in str(err.value)
    assert "spec.jobManager.resource.memory: 2048 is not of type 'string'" in str(err.value)
