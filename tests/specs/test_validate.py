"""`flinkbatch validate` right after the demo: no connection in the shell, the demo's local cluster running."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import CLICKS_SQL, EXAMPLE_SPECS, spec_folder

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.local import LocalClusterInfo

#: example_dags/specs: three file ingestion specs and, in kafka/, three Kafka -> Parquet specs
EXAMPLE_COUNT = 8  # example_dags/specs: 3 ingestion, 2 asset-chained (assets/), 3 Kafka


def _home_with_cluster(tmp_path: Path, cluster: LocalClusterInfo) -> Path:
    """A state folder like the demo's (<project>/.flinkbatch) whose local-cluster is the running test cluster."""
    home = tmp_path / ".flinkbatch"
    home.mkdir()
    (home / "local-cluster").symlink_to(cluster.state_dir)
    return home


@pytest.mark.integration
def test_validate_uses_the_running_local_cluster_when_the_connection_is_not_defined(
    flink_cluster: LocalClusterInfo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", raising=False)
    monkeypatch.setenv("FLINKBATCH_HOME", str(_home_with_cluster(tmp_path, flink_cluster)))
    assert main(["validate", str(EXAMPLE_SPECS)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        f"connection 'flink_batch_default' is not defined in this shell: using the local cluster at "
        f"{flink_cluster.rest_url} (flinkbatch local up)"
    )
    assert out[1] == f"Planning {EXAMPLE_COUNT} spec(s) on the local cluster at {flink_cluster.rest_url}"
    assert all(
        "connection: local cluster; Flink planned it (on the cluster)" in line for line in out[2 : 2 + EXAMPLE_COUNT]
    ), out
    assert out[-1] == f"{EXAMPLE_COUNT} spec(s): {EXAMPLE_COUNT} valid, 0 with errors"


def test_validate_without_connection_or_cluster_says_what_it_skipped_and_how_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", raising=False)
    monkeypatch.setenv("FLINKBATCH_HOME", str(tmp_path / "no-cluster-here"))
    assert main(["validate", str(EXAMPLE_SPECS), "--no-explain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "connection 'flink_batch_default' is not defined in this shell: skipped the connection check; define it "
        """with AIRFLOW_CONN_FLINK_BATCH_DEFAULT='{"conn_type": "flink_batch", "host": "http://<jobmanager>:8081"}' """
        "or start the local cluster (flinkbatch local up), or pass --no-connections"
    )
    assert all(line.endswith("connection check skipped") for line in out[1 : 1 + EXAMPLE_COUNT]), out
    assert out[-1] == f"{EXAMPLE_COUNT} spec(s): {EXAMPLE_COUNT} valid, 0 with errors"


def test_a_malformed_connection_is_still_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", '{"conn_type": "flink_batch", "host": "ftp://x"}')
    assert main(["validate", str(EXAMPLE_SPECS), "--no-explain"]) == 1
    out = capsys.readouterr().out
    assert "ERROR specs/ingest_orders.yaml: flink_conn_id: " in out


def test_validate_rejects_what_a_run_refuses_for_the_job_identity(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SET 'pipeline.global-job-parameters' = 'team:a';\n" + CLICKS_SQL
    folder = spec_folder(
        tmp_path,
        {"setter.yaml": "sql: sql/setter.sql\nparams: {base: /tmp/x}\nflink_config: {pipeline.name: x}\n"},
    )
    (folder / "sql" / "setter.sql").write_text(sql)
    assert main(["validate", str(folder), "--no-explain", "--no-connections"]) == 1
    out = capsys.readouterr().out
    assert (
        "jobs/setter.yaml: flink_config: flink_config sets 'pipeline.name'; the provider names the job: give "
        "job_name= (a spec's job_name) instead"
    ) in out, out
    assert "jobs/setter.yaml: sql: statement 1 (SET 'pipeline.global-job-parameters') would replace" in out, out
