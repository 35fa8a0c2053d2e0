"""Find file sources that have nothing to read, before the job runs.

Why: a ``filesystem`` table over a folder that exists but holds no data files is read as zero rows; the
job FINISHES and writes nothing (an ``INSERT OVERWRITE`` even empties its partition), so a wrong path or
a missing upstream run looks like a quiet day. For Parquet, Avro and ORC inputs (files written by other
jobs, never an empty day's landing folder) that is almost always a mistake, so it is an error naming the
table, the path and what to check. Only local paths are looked at, and only when the cluster runs on
this machine (the JobManager resolves ``file:`` paths on its own host). A path that does not exist is
left to Flink (``FileNotFoundException``, retried: the input may still arrive).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from airflow_provider_flinkbatch.lineage import _CREATE, _bare, job_lineage
from airflow_provider_flinkbatch.sql.factories import table_options

#: Formats whose inputs are files other jobs wrote: an empty folder means a wrong path, not an empty day.
BULK_FORMATS = frozenset({"parquet", "avro", "orc"})


def _local_path(path: str) -> Path | None:
    url = urlsplit(path)
    if url.scheme in ("", "file"):
        return Path(url.path)
    return None


def _has_data_files(folder: Path) -> bool:
    """Any file below ``folder`` that Flink would read (hidden and ``_`` files, e.g. ``_SUCCESS``, are skipped)."""
    for item in folder.rglob("*"):
        if item.is_file() and not any(part.startswith((".", "_")) for part in item.relative_to(folder).parts):
            return True
    return False


def empty_inputs(statements: Sequence[str]) -> list[str]:
    """One message per Parquet/Avro/ORC source whose local folder exists but holds no data files."""
    inputs = {table.table.lower() for table in job_lineage(statements).inputs}
    problems = []
    for statement in statements:
        match = _CREATE.match(statement)
        options = table_options(statement)
        fmt = options.get("format", "").lower()
        if match is None or options.get("connector") != "filesystem" or fmt not in BULK_FORMATS:
            continue
        name = _bare(match["name"])
        path = _local_path(options.get("path", ""))
        if name.lower() not in inputs or path is None or not path.is_dir() or _has_data_files(path):
            continue
        problems.append(
            f"table {name}: 'path' = '{options['path']}' has no {fmt} files, so the job would read 0 rows and "
            "succeed without output: check the path (and its template values, e.g. the date) and that the job "
            "writing it has run"
        )
    return problems
