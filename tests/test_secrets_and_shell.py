"""Secrets never reach logs or the UI; shell metacharacters in names and SQL stay data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import RunDag, flink_jobs_named, read_output

from airflow_provider_flinkbatch.config_secrets import is_secret_config_key
from airflow_provider_flinkbatch.local import LocalClusterInfo

SECRET = "s3cr3t-VALUE-9f8e7d"
PASSWORD = "conn-pass-4a5b6c"
#: the other secret values of the it_secrets DAG: an Azure account key, a Kafka JAAS config, a user pattern
OTHER_SECRETS = ("azure-KEY-1a2b3c", "jaas-PASS-4d5e6f", "vault-VALUE-7a8b9c")


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("s3.secret-key", True),
        ("fs.s3a.access.key", True),
        ("security.ssl.rest.keystore-password", True),
        ("fs.azure.account.key", True),
        ("kubernetes.token", True),
        ("table.exec.sink.keyed-shuffle", False),
        ("pipeline.max-parallelism", False),
        ("state.backend.rocksdb.use-bloom-filter", False),
        # S3 / S3A
        ("s3.access-key", True),
        ("fs.s3a.secret.key", True),
        ("fs.s3a.session.token", True),
        ("fs.s3a.aws.credentials.provider", False),  # a class name: about the credentials, not one
        ("s3.path-style-access", False),
        # GCS
        ("fs.gs.auth.service.account.private.key", True),
        ("fs.gs.auth.client.secret", True),
        ("google.cloud.auth.service.account.json.keyfile", False),  # a path
        # Azure ABFS / WASB
        ("fs.azure.account.key.acct.dfs.core.windows.net", True),
        ("fs.azure.account.key.acct.blob.core.windows.net", True),
        ("fs.azure.account.oauth2.client.secret.acct.dfs.core.windows.net", True),
        ("fs.azure.sas.fixed.token", True),
        ("fs.azure.account.oauth2.client.id", False),
        ("fs.azure.account.auth.type", False),
        # Kafka, JDBC and catalogs, Flink's own
        ("properties.sasl.jaas.config", True),
        ("sasl.jaas.config", True),
        ("table.catalog.pg.password", True),
        ("connection.passwd", True),
        ("fs.oss.accessKeySecret", True),
        ("security.ssl.rest.key-password", True),
        ("security.ssl.rest.keystore", False),  # a file
        ("security.kerberos.login.keytab", False),
        ("security.delegation.tokens.enabled", False),
        ("kubernetes.secrets", False),  # names of Kubernetes Secrets to mount
        ("table.exec.state.ttl", False),
    ],
)
def test_secret_looking_config_keys(key: str, secret: bool) -> None:
    assert is_secret_config_key(key, patterns=()) is secret


def test_user_patterns_extend_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__FLINKBATCH__SECRET_CONFIG_KEYS", "my.vault.*, *.api-handle")
    assert is_secret_config_key("my.vault.entry") and is_secret_config_key("Service.API-Handle")
    assert not is_secret_config_key("my.vaulted")


def test_flinkbatch_render_masks_secret_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from airflow_provider_flinkbatch.cli import main

    (tmp_path / "job.sql").write_text("CREATE TEMPORARY TABLE s (x INT) WITH ('connector' = 'blackhole');\n")
    (tmp_path / "job.yaml").write_text(
        "sql: job.sql\nflink_config:\n"
        f"  fs.azure.account.key.acct.dfs.core.windows.net: {OTHER_SECRETS[0]}\n"
        f"  properties.sasl.jaas.config: 'PlainLoginModule required password=\"{OTHER_SECRETS[1]}\";'\n"
        "  table.exec.sink.keyed-shuffle: AUTO\n"
    )
    for extra in ([], ["--json"]):
        assert main(["render", str(tmp_path / "job.yaml"), *extra]) == 0
        out = capsys.readouterr().out
        assert not [secret for secret in OTHER_SECRETS[:2] if secret in out]
        assert "AUTO" in out
        assert extra or "fs.azure.account.key.acct.dfs.core.windows.net = ***" in out


@pytest.mark.integration
def test_secrets_are_masked_in_task_logs_and_rendered_fields(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    conn = json.loads(flink_cluster.connection_uri_json()) | {"login": "svc", "password": PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_WITH_PASSWORD", json.dumps(conn))
    monkeypatch.setenv("AIRFLOW__FLINKBATCH__SECRET_CONFIG_KEYS", "my.vault.*")
    _, tis = run_dag("it_secrets")

    ti = tis["with_secret_config"]
    assert ti.state == "success"
    log = capfd.readouterr().out
    assert not [secret for secret in (SECRET, PASSWORD, *OTHER_SECRETS) if secret in log]

    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    rendered = RenderedTaskInstanceFields.get_templated_fields(ti)  # what the UI's "Rendered" tab shows
    assert rendered is not None
    assert not [secret for secret in (SECRET, *OTHER_SECRETS) if secret in json.dumps(rendered)]
    assert rendered["flink_config"]["table.exec.sink.keyed-shuffle"] == "AUTO"  # ordinary keys stay readable


@pytest.mark.integration
def test_shell_metacharacters_stay_data(run_dag: RunDag, flink_cluster: LocalClusterInfo, data_dir: Path) -> None:
    (data_dir / "canary").write_text("still here")
    _, tis = run_dag("it_no_shell")

    assert tis["metachars"].state == "success"
    assert (data_dir / "canary").read_text() == "still here"
    assert not (data_dir / "pwned").exists()
    name = f"it.no_shell; rm -rf {data_dir}/canary $(touch {data_dir}/pwned) 'q\" `id`"
    [job] = flink_jobs_named(flink_cluster.rest_url, name)  # the exact name, byte for byte
    assert job["state"] == "FINISHED"
    assert read_output(data_dir / "out") == sorted(
        [f"; rm -rf {data_dir}/canary", f"$(touch {data_dir}/pwned)", "`id` \"q\" 's'"]
    )


@pytest.mark.integration
def test_credentials_in_the_connection_url_reach_no_log_xcom_or_link(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from conftest import xcom_value

    conn = json.loads(flink_cluster.connection_uri_json())
    conn["host"] = conn["host"].replace("://", f"://svc:{PASSWORD}@")
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_WITH_PASSWORD", json.dumps(conn))
    dag_run, tis = run_dag("it_secrets")

    assert tis["with_secret_config"].state == "success"
    assert PASSWORD not in capfd.readouterr().out
    info = xcom_value(dag_run, "with_secret_config", "flink_job")  # what the extra links are built from
    assert info["job_id"] and PASSWORD not in json.dumps(info) and "svc@" not in json.dumps(info)
