"""Diagnosis of real failures on the local Flink cluster, from all three sources.

Each failure is produced for real (bad data, a missing input path, a cancellation, a bad column) and
diagnosed from the JobManager REST API, the HistoryServer REST API and the raw archive file: the three
must agree, because they serve the same Flink JSON.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import make_request, slow_sql

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose, diagnose_submission
from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook, JobHistoryNotFound
from airflow_provider_flinkbatch.history.sources import ArchiveError, ArchiveJobSource, JobSource
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobHandle, SubmissionRejected

pytestmark = pytest.mark.integration

CAST_SQL = """
CREATE TEMPORARY TABLE src (id BIGINT, amount STRING)
  WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv');
CREATE TEMPORARY TABLE sink (id BIGINT, amount INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id, CAST(amount AS INT) FROM src;
"""


def wait_archived(hook: FlinkHistoryServerHook, job_id: str, timeout: float = 60) -> None:
    """The JobManager archives a finished job and the HistoryServer picks it up within seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hook.history_server is not None and hook.history_server.get(f"/jobs/{job_id}") is not None:
            return
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not in the HistoryServer after {timeout}s")


def wait_terminal(target: SessionTarget, handle: JobHandle, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = str(target.job_details(handle)["state"])
        if state in ("FINISHED", "FAILED", "CANCELED"):
            return state
        time.sleep(0.2)
    raise AssertionError(f"job {handle.job_id} still running after {timeout}s")


@pytest.fixture(scope="module")
def failures(flink_cluster: LocalClusterInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Real failed/cancelled jobs (by kind) plus a rejected submission message, all archived."""
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_FLINK_HISTORY_TEST", flink_cluster.connection_uri_json())
    data = tmp_path_factory.mktemp("diag")
    (data / "amounts.csv").write_text("1,12\n2,twelve\n")
    target = SessionTarget(FlinkRestHook("flink_history_test").client, "flink_history_test")
    hook = FlinkHistoryServerHook("flink_history_test")
    handles = {
        "bad_cast": target.submit(make_request(CAST_SQL.format(path=data / "amounts.csv"), "diag.bad_cast")),
        "missing_path": target.submit(make_request(CAST_SQL.format(path=data / "nope.csv"), "diag.missing")),
        "cancelled": target.submit(make_request(slow_sql(100_000), "diag.cancelled")),
    }
    time.sleep(2)
    target.cancel(handles["cancelled"])  # cancelled mid-run
    for handle in handles.values():
        wait_terminal(target, handle)
        wait_archived(hook, handle.job_id)
    jobs = {kind: handle.job_id for kind, handle in handles.items()}
    with pytest.raises(SubmissionRejected) as rejected:
        target.submit(
            make_request(CAST_SQL.format(path=data / "amounts.csv").replace("CAST(amount", "CAST(amunt"), "diag.sql")
        )
    yield {"jobs": jobs, "hook": hook, "rejected": str(rejected.value), "archive_dir": flink_cluster.archive_dir}
    mp.undo()


def from_source(source: JobSource, job_id: str) -> Diagnosis:
    return diagnose(job_id, source.get(f"/jobs/{job_id}"), source.get(f"/jobs/{job_id}/exceptions"), source=source.name)


def all_sources(failures: dict[str, Any], kind: str) -> list[Diagnosis]:
    hook: FlinkHistoryServerHook = failures["hook"]
    job_id = failures["jobs"][kind]
    sources = [hook.jobmanager, hook.history_server, hook.archive]
    assert all(source is not None for source in sources)
    results = [from_source(source, job_id) for source in sources if source is not None]
    assert [r.source for r in results] == ["jobmanager", "historyserver", "archive"]
    # the three sources serve the same Flink JSON: identical diagnoses apart from where they came from
    first = results[0].model_dump(exclude={"source"})
    assert all(r.model_dump(exclude={"source"}) == first for r in results[1:])
    return results


def test_bad_data_is_a_non_retryable_user_data_error(failures: dict[str, Any]) -> None:
    for result in all_sources(failures, "bad_cast"):
        assert result.state == "FAILED" and result.job_name == "diag.bad_cast"
        assert result.category == "user_data_error" and result.retryable is False
        assert result.exception_class == "java.lang.NumberFormatException"
        assert "'twelve'" in (result.message or "")
        assert result.vertex and "Calc" in result.vertex and result.subtask == "1/1"
        assert result.task_manager and result.task_manager.startswith("localhost:")
        assert result.attempts == 1
        assert result.frames and not result.frames[0].startswith("java.")  # frames that matter


def test_missing_input_path_is_a_retryable_io_error(failures: dict[str, Any]) -> None:
    for result in all_sources(failures, "missing_path"):
        assert result.state == "FAILED"
        assert result.category == "io_error" and result.retryable is True
        assert result.exception_class == "java.io.FileNotFoundException"
        assert "nope.csv" in (result.message or "")
        assert result.vertex and result.vertex.startswith("Source: src")  # global failure: the vertex, no TM


def test_cancelled_job_is_not_retried(failures: dict[str, Any]) -> None:
    for result in all_sources(failures, "cancelled"):
        assert result.state == "CANCELED"
        assert result.category == "cancelled" and result.retryable is False


def test_validation_error_at_submission_is_a_sql_error(failures: dict[str, Any]) -> None:
    result = diagnose_submission("0" * 32, failures["rejected"])
    assert result.category == "sql_error" and result.retryable is False
    assert "amunt" in failures["rejected"]


def test_hook_falls_back_in_order_and_says_what_it_tried(failures: dict[str, Any]) -> None:
    hook: FlinkHistoryServerHook = failures["hook"]
    job_id = failures["jobs"]["bad_cast"]
    assert hook.diagnose(job_id).source == "jobmanager"
    from_history = hook.diagnose(job_id, include_jobmanager=False)
    assert from_history.source == "historyserver" and from_history.category == "user_data_error"
    assert any(j["jid"] == job_id for j in hook.list_jobs())
    with pytest.raises(
        JobHistoryNotFound, match=r"not known to any source; tried: jobmanager .*not found; historyserver"
    ):
        hook.diagnose("f" * 32)


def test_archive_layouts_and_filesystems(failures: dict[str, Any], tmp_path: Path) -> None:
    job_id = failures["jobs"]["bad_cast"]
    [original] = list(Path(failures["archive_dir"]).glob(f"*/applications/*/jobs/{job_id}"))
    assert original.parent.parent.name == job_id  # Flink 2.3 layout, application id == job id

    flat = tmp_path / "flink1x"
    flat.mkdir()
    shutil.copy(original, flat / job_id)  # Flink 1.x: <dir>/<job id>
    assert from_source(ArchiveJobSource(flat.as_uri()), job_id).category == "user_data_error"

    other_app = tmp_path / "flink2x" / "cluster-a" / "applications" / ("a" * 32) / "jobs"
    other_app.mkdir(parents=True)
    shutil.copy(original, other_app / job_id)  # run-application: application id != job id, found by listing
    assert from_source(ArchiveJobSource((tmp_path / "flink2x").as_uri()), job_id).exception_class

    # any fsspec filesystem through ObjectStoragePath: here the in-memory one
    from airflow.sdk import ObjectStoragePath

    remote = ObjectStoragePath(f"memory://flink-archive/cluster/applications/{job_id}/jobs/{job_id}")
    remote.parent.mkdir(parents=True, exist_ok=True)
    remote.write_text(original.read_text())
    assert from_source(ArchiveJobSource("memory://flink-archive"), job_id).category == "user_data_error"


def test_broken_archive_is_a_clear_error(tmp_path: Path) -> None:
    job_id = "c" * 32
    (tmp_path / job_id).write_text("<html>not an archive</html>")
    with pytest.raises(ArchiveError, match=f"archive .*{job_id} is not JSON"):
        ArchiveJobSource(tmp_path.as_uri()).get(f"/jobs/{job_id}")
    assert ArchiveJobSource((tmp_path / "missing").as_uri()).get(f"/jobs/{'d' * 32}") is None


def test_cli_diagnose(failures: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    job_id = failures["jobs"]["bad_cast"]
    assert main(["diagnose", job_id, "--conn-id", "flink_history_test", "--history-only"]) == 0
    block = capsys.readouterr().out
    assert f"Flink job {job_id} (diag.bad_cast) ended FAILED" in block
    assert "category     : user_data_error (retryable: no)" in block
    assert main(["diagnose", job_id, "--archive-dir", Path(failures["archive_dir"]).as_uri(), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["source"] == "archive"
    assert main(["diagnose", "e" * 32, "--conn-id", "flink_history_test"]) == 2
    assert "not known to any source" in capsys.readouterr().err
