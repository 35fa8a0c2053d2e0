"""Bad YARN settings fail early and say what to fix: target_options at DAG parse, the connection at run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.rest.settings import ConnectionFields, FlinkConnectionError
from airflow_provider_flinkbatch.targets.registry import TargetOptionsError
from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"queue": "root etl"}, r"queue: Value error, queue must be a YARN queue name"),
        ({"jobmanager_memory": "lots"}, r"jobmanager_memory: Value error, must be a Flink memory size like '1600m'"),
        ({"tags": [f"t{i}" for i in range(7)]}, r"tags: List should have at most 6 items"),
        ({"tags": ["a,b"]}, r"YARN tags are 1-100 ASCII characters without commas"),
        ({"flink_config": {"$internal.pipeline.job-id": "x"}}, r"is set by the provider \(job identity\)"),
        ({"queu": "etl"}, r"queu: Extra inputs are not permitted"),
    ],
)
def test_bad_target_options_fail_when_the_dag_is_parsed(options: dict[str, Any], error: str) -> None:
    with pytest.raises(TargetOptionsError, match=rf"target_options for target='yarn': .*{error}"):
        FlinkBatchSqlOperator(task_id="t", sql="SELECT 1", target="yarn", target_options=options)


def parse(host: str | None = "http://rm1:8088", conn_type: str = "flink_yarn", **extra: Any) -> YarnConnectionSettings:
    return YarnConnectionSettings.from_connection_fields(
        ConnectionFields(conn_id="y", conn_type=conn_type, host=host, login="etl", extra=extra)
    )


def test_ha_urls_from_the_host_field() -> None:
    settings = parse("http://rm1:8088, rm2:8088/")
    assert settings.rm_urls == ["http://rm1:8088", "http://rm2:8088"]
    assert settings.app_page_url("application_1_0001") == "http://rm1:8088/cluster/app/application_1_0001"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"host": None}, r"connection 'y' has no ResourceManager URL: set host to http://<rm>:8088"),
        ({"conn_type": "flink_batch"}, r"target='yarn' needs a 'flink_yarn' connection"),
        ({"flink_hom": "/opt/flink"}, r"unknown extra field\(s\) \['flink_hom'\]"),
        ({"kerberos_principal": "etl@X"}, r"kerberos_principal and kerberos_keytab go together"),
        ({"spnego": "maybe"}, r"extra spnego must be true or false"),
        ({"host": "ftp://rm"}, r"rm_urls must be an http\(s\) URL"),
    ],
)
def test_bad_connections_name_the_field(kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(FlinkConnectionError, match=error):
        parse(**kwargs)


def test_flink_cli_must_exist_and_be_executable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FlinkConnectionError, match=r"Flink CLI from flink_home \(.*/bin/flink\) is not an executable"):
        parse(flink_home=str(tmp_path)).flink_executable()
    monkeypatch.delenv("FLINK_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FlinkConnectionError, match=r"no Flink CLI found: set extra flink_home"):
        parse().flink_executable()
    (tmp_path / "flink").write_text("#!/bin/sh\n")
    (tmp_path / "flink").chmod(0o755)
    assert parse().flink_executable() == str(tmp_path / "flink")


def test_spnego_without_the_kerberos_extra_says_what_to_install() -> None:
    from airflow_provider_flinkbatch.yarn.client import YarnRmClient

    try:
        import requests_kerberos  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install 'airflow-provider-flinkbatch\[kerberos\]'"):
            YarnRmClient(parse(spnego=True))
    else:  # pragma: no cover - only where the extra is installed
        assert YarnRmClient(parse(spnego=True))._session.auth is not None


def test_the_yarn_example_dag_parses_with_validated_options(airflow_db: None) -> None:
    from conftest import load_dag

    from airflow_provider_flinkbatch.targets.registry import validate_target_options

    examples = Path(__file__).resolve().parents[2] / "example_dags"
    task = load_dag("flink_batch_sql_yarn", examples).get_task("daily_totals")
    assert (task.target, task.flink_conn_id) == ("yarn", "flink_yarn_default")
    options = validate_target_options(task.target, task.target_options)
    assert options is not None and options.model_dump()["queue"] == "etl"
