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
    ],
)
def test_secret_looking_config_keys(key: str, secret: bool) -> None:
    assert is_secret_config_key(key) is secret


@pytest.mark.integration
def test_secrets_are_masked_in_task_logs_and_rendered_fields(
    run_dag: RunDag, flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    conn = json.loads(flink_cluster.connection_uri_json()) | {"login": "svc", "password": PASSWORD}
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_WITH_PASSWORD", json.dumps(conn))
    _, tis = run_dag("it_secrets")

    ti = tis["with_secret_config"]
    assert ti.state == "success"
    log = capfd.readouterr().out
    assert SECRET not in log and PASSWORD not in log

    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    rendered = RenderedTaskInstanceFields.get_templated_fields(ti)  # what the UI's "Rendered" tab shows
    assert rendered is not None
    assert SECRET not in json.dumps(rendered)
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
