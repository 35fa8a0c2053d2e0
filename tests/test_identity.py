"""Job identity: stable ids, the deployment in the key, and the options the user's SQL/config may not touch."""

from __future__ import annotations

import hashlib
import json

import pytest

from airflow_provider_flinkbatch.identity import (
    DEPLOYMENT_ENV,
    IdentityError,
    JobIdentity,
    deployment_name,
    identity_option_problems,
)
from airflow_provider_flinkbatch.targets.base import JobRequest
from airflow_provider_flinkbatch.targets.job_config import effective_flink_config
from airflow_provider_flinkbatch.targets.request import JobDefinitionError, build_request


class _Ti:
    dag_id, task_id, run_id, map_index = "sales", "daily_totals", "scheduled__2026-12-01T00:00:00+00:00", None


def identity(deployment: str | None = None) -> JobIdentity:
    made = JobIdentity(dag_id="sales", task_id="daily_totals", run_id="manual", fingerprint="0" * 16)
    return made if deployment is None else made.model_copy(update={"deployment": deployment})


def test_the_default_deployment_keeps_the_documented_key_so_job_ids_do_not_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(DEPLOYMENT_ENV, raising=False)
    # docs/identity.md before deployments existed: sha256 of the JSON list dag_id, task_id, run_id, map_index
    documented = hashlib.sha256(json.dumps(["sales", "daily_totals", "manual", -1]).encode()).hexdigest()[:20]
    assert identity().deployment == "default"
    assert identity().key == documented
    assert identity().job_id(0) == hashlib.sha256(f"{documented}/0".encode()).hexdigest()[:32]


def test_two_deployments_get_different_job_ids_for_the_same_task_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYMENT_ENV, "prod-eu")
    prod = identity()
    assert prod.deployment == "prod-eu"
    staging = identity(deployment="staging")
    assert prod.key != staging.key
    assert not set(prod.candidate_job_ids()) & set(staging.candidate_job_ids())
    assert not set(prod.candidate_job_ids()) & set(identity(deployment="default").candidate_job_ids())


def test_the_deployment_travels_as_a_job_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYMENT_ENV, "prod-eu")
    request = JobRequest(statements=["INSERT INTO t SELECT 1"], flink_config={}, job_name="n", identity=identity())
    parameters = effective_flink_config(request)["pipeline.global-job-parameters"]
    assert "airflow.deployment:prod-eu" in parameters.split(",")


@pytest.mark.parametrize("bad", ["prod eu", "a" * 64, "-x", "x,y", "line\nbreak"])
def test_a_bad_deployment_name_fails_the_task_naming_the_option(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv(DEPLOYMENT_ENV, bad)
    with pytest.raises(IdentityError, match=r"\[flinkbatch\] deployment must be 1-63 letters"):
        deployment_name()
    with pytest.raises(JobDefinitionError, match=r"AIRFLOW__FLINKBATCH__DEPLOYMENT"):
        build_request(_Ti(), "INSERT INTO t SELECT 1", {}, [], None)


@pytest.mark.parametrize(
    "statement",
    [
        "SET 'pipeline.global-job-parameters' = 'airflow.identity:forged'",
        "set 'pipeline.global-job-parameters'='team:a'",
        "SET pipeline.global-job-parameters = team:a",
    ],
)
def test_sql_that_sets_the_identity_parameters_is_refused_before_submitting(statement: str) -> None:
    sql = f"{statement};\nINSERT INTO t SELECT 1;"
    with pytest.raises(JobDefinitionError) as err:
        build_request(_Ti(), sql, {}, [], None)
    assert str(err.value) == (
        "statement 1 (SET 'pipeline.global-job-parameters') would replace the job's identity parameters "
        "(airflow.identity, airflow.attempt, ...), so a retry could no longer recognise the job: give your own "
        "parameters in flink_config['pipeline.global-job-parameters'] instead (merged with the provider's)"
    )


def test_sql_that_sets_the_job_id_or_the_job_name_is_refused() -> None:
    statements = [
        "SET '$internal.pipeline.job-id' = '00000000000000000000000000000000'",
        "RESET 'pipeline.name'",
        "INSERT INTO t SELECT 1",
    ]
    assert identity_option_problems(statements, {}) == [
        "statement 1 (SET '$internal.pipeline.job-id') touches '$internal.pipeline.job-id', a Flink-internal "
        "option; the provider sets the job id itself from the task instance's identity (docs/identity.md), so a "
        "retry finds the job: remove it",
        "statement 2 (RESET 'pipeline.name') touches 'pipeline.name'; the provider names the job: give job_name= "
        "(a spec's job_name) instead",
    ]


def test_flink_config_may_add_global_parameters_but_not_the_providers() -> None:
    ok = build_request(_Ti(), "INSERT INTO t SELECT 1", {"pipeline.global-job-parameters": "team:a"}, [], None)
    merged = effective_flink_config(ok)["pipeline.global-job-parameters"].split(",")
    assert merged[0] == "team:a" and "airflow.task_id:daily_totals" in merged
    for config, message in (
        ({"pipeline.global-job-parameters": "team:a,airflow.identity:forged"}, "sets airflow.* parameters"),
        ({"$internal.pipeline.job-id": "0" * 32}, "flink_config sets '$internal.pipeline.job-id'"),
        ({"pipeline.name": "x"}, "flink_config sets 'pipeline.name'; the provider names the job: give job_name="),
    ):
        with pytest.raises(JobDefinitionError, match=message.replace("*", r"\*").replace("$", r"\$")):
            build_request(_Ti(), "INSERT INTO t SELECT 1", config, [], None)


def test_other_set_statements_are_the_users() -> None:
    statements = ["SET 'parallelism.default' = '2'", "SET 'table.exec.resource.default-parallelism'='4'"]
    assert identity_option_problems([*statements, "INSERT INTO t SELECT 1"], {"parallelism.default": "2"}) == []


def test_the_deployment_option_is_registered_and_read_from_airflow_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.configuration import conf

    from airflow_provider_flinkbatch.get_provider_info import get_provider_info

    option = get_provider_info()["config"]["flinkbatch"]["options"]["deployment"]
    assert option["default"] == "default" and option["type"] == "string"
    monkeypatch.delenv(DEPLOYMENT_ENV, raising=False)
    conf.set("flinkbatch", "deployment", "from-airflow-cfg")
    try:
        assert deployment_name() == "from-airflow-cfg"
    finally:
        conf.remove_option("flinkbatch", "deployment")
    assert deployment_name() == "default"
