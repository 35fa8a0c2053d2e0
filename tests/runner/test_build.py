"""The SQL runner jar: compiled once per (source, Flink version), reproducible, overridable."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, RunnerJar, ensure_runner_jar
from airflow_provider_flinkbatch.runner.build import RunnerBuildError, runner_program_args


def test_jar_is_cached_and_runnable(runner_jar: RunnerJar) -> None:
    again = ensure_runner_jar()
    assert again == runner_jar  # same path and content hash: no recompilation, no re-upload
    with zipfile.ZipFile(runner_jar.path) as jar:
        assert f"{RUNNER_MAIN_CLASS}.class" in jar.namelist()
        assert f"Main-Class: {RUNNER_MAIN_CLASS}" in jar.read("META-INF/MANIFEST.MF").decode()
    assert runner_jar.upload_name == f"flinkbatch-sql-runner-{runner_jar.sha256[:16]}.jar"


def test_prebuilt_jar_override(runner_jar: RunnerJar, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FLINKBATCH_RUNNER_JAR", str(runner_jar.path))
    assert ensure_runner_jar().sha256 == runner_jar.sha256
    monkeypatch.setenv("FLINKBATCH_RUNNER_JAR", str(tmp_path / "missing.jar"))
    with pytest.raises(RunnerBuildError, match="does not exist"):
        ensure_runner_jar()


def test_statements_travel_as_base64_so_quotes_and_newlines_stay_data() -> None:
    args = runner_program_args(["INSERT INTO t SELECT 'a; $(rm -rf /)' FROM s", "SET 'x' = 'y\nz'"])
    assert args[0::2] == ["--statement-b64", "--statement-b64"]
    assert all(arg.isascii() and " " not in arg for arg in args[1::2])
