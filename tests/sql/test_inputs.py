"""A Parquet/Avro/ORC source folder with no data files is found before the job runs (real folders)."""

from __future__ import annotations

from pathlib import Path

from airflow_provider_flinkbatch.sql.inputs import empty_inputs
from airflow_provider_flinkbatch.sql.statements import split_statements


def _script(path: Path, fmt: str = "parquet") -> list[str]:
    return split_statements(
        f"""
CREATE TABLE events (id BIGINT, dt STRING) PARTITIONED BY (dt)
  WITH ('connector' = 'filesystem', 'path' = '{path.as_uri()}', 'format' = '{fmt}');
CREATE TABLE out1 (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out1 SELECT id FROM events;
"""
    )


def test_a_folder_without_data_files_is_named_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "events"
    (folder / "dt=2026-03-01").mkdir(parents=True)
    (folder / "dt=2026-03-01" / "_SUCCESS").write_text("")  # markers and hidden files are not data
    (folder / ".part-0.inprogress").write_text("x")
    assert empty_inputs(_script(folder)) == [
        f"table events: 'path' = '{folder.as_uri()}' has no parquet files, so the job would read 0 rows and succeed "
        "without output: check the path (and its template values, e.g. the date) and that the job writing it has run"
    ]
    (folder / "dt=2026-03-01" / "part-0").write_bytes(b"PAR1")
    assert empty_inputs(_script(folder)) == []


def test_only_existing_local_bulk_format_sources_are_judged(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert empty_inputs(_script(tmp_path / "missing")) == []  # Flink reports a missing path itself
    assert empty_inputs(_script(empty, "json")) == []  # an empty landing folder can be a quiet day
    assert empty_inputs(_script(empty, "avro")) != []
    s3 = [statement.replace(empty.as_uri(), "s3://bucket/events") for statement in _script(empty)]
    assert empty_inputs(s3) == []
