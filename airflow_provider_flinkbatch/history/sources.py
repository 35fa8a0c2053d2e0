"""Job history sources that answer Flink REST paths (``/jobs/<id>``, ``/jobs/<id>/exceptions``, ...).

The JobManager and the HistoryServer serve these paths over HTTP; an archive file written by
``jobmanager.archive.fs.dir`` stores the very same paths and JSON. So one interface covers all
three, and :class:`JobLookup` is the one "ask the JobManager, then the HistoryServer, then the
archives" chain every target and the diagnosis use: which sources a backend has differs (a YARN
application's JobManager is behind the web proxy, a Kubernetes one behind ``rest_url_template``),
the order and the error handling do not.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import FlinkRestClient
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkRestError


class ArchiveError(RuntimeError):
    """An archive exists but cannot be read or parsed; the message names the file."""


class JobSource(Protocol):
    """Answers Flink REST paths about jobs; ``None`` when this source does not know the path."""

    name: str

    def get(self, path: str) -> Any | None: ...


class JobLookup:
    """Ask each source in turn; the first that knows the path answers.

    A source that fails (unreachable, proxy error page, unreadable archive) is skipped like one that
    does not know the path; ``tried`` says what each one said, for the user's message.
    """

    def __init__(self, sources: list[JobSource]) -> None:
        self.sources = sources

    def first(self, path: str) -> tuple[JobSource | None, Any, list[str]]:
        """(source, answer, what was tried) from the first source that knows ``path``; source and answer are
        ``None`` when none does."""
        tried: list[str] = []
        for source in self.sources:
            try:
                answer = source.get(path)
            except (FlinkRestError, ArchiveError) as err:
                tried.append(f"{source!r}: {err}")
                continue
            if answer is None:
                tried.append(f"{source!r}: not found")
                continue
            tried.append(f"{source!r}: found")
            return source, answer, tried
        return None, None, tried

    def get(self, path: str) -> Any | None:
        return self.first(path)[1]


class RestJobSource:
    """The JobManager's or the HistoryServer's REST API (same paths, same JSON)."""

    def __init__(self, name: str, client: FlinkRestClient) -> None:
        self.name = name
        self.client = client

    def get(self, path: str) -> Any | None:
        try:
            return self.client.call(calls.ApiCall("GET", path, lambda body: body))
        except FlinkNotFoundError:
            return None

    def __repr__(self) -> str:
        return f"{self.name} ({self.client.settings.rest_url})"


class ArchiveJobSource:
    """Raw archive files under ``jobmanager.archive.fs.dir``, on any filesystem Airflow can reach.

    Paths go through Airflow's ``ObjectStoragePath`` (fsspec), so ``file://``, ``s3://``, ``gs://``,
    ``hdfs://`` ... work with the credentials of ``conn_id``. Finding a job never reads other archives:

    * Flink 2.x: ``<dir>/<cluster id>/applications/<application id>/jobs/<job id>``; jobs run through
      ``/jars/<id>/run`` have application id == job id, so the path is direct (one ``exists`` per
      cluster directory); otherwise the application directories are *listed* (names only).
    * Flink 1.x: ``<dir>/<job id>``.
    """

    name = "archive"

    def __init__(self, archive_dir: str, conn_id: str | None = None) -> None:
        self.archive_dir = archive_dir
        self.conn_id = conn_id
        self._archives: dict[str, dict[str, str]] = {}  # job id -> entries, once found (archives never change)

    def __repr__(self) -> str:
        return f"archive ({self.archive_dir})"

    def _root(self) -> Any:
        from airflow.sdk import ObjectStoragePath  # Airflow + fsspec: only once an archive is looked up

        return ObjectStoragePath(self.archive_dir, conn_id=self.conn_id)

    def locate(self, job_id: str) -> Any | None:
        """The archive file of ``job_id``, or None."""
        calls.check_job_id(job_id)
        root = self._root()
        try:
            flat = root / job_id
            if flat.is_file():
                return flat
            clusters = [entry for entry in root.iterdir() if entry.is_dir()]
            for cluster in clusters:
                direct = cluster / "applications" / job_id / "jobs" / job_id
                if direct.is_file():
                    return direct
            for cluster in clusters:
                applications = cluster / "applications"
                if not applications.is_dir():
                    continue
                for application in applications.iterdir():
                    candidate = application / "jobs" / job_id
                    if candidate.is_file():
                        return candidate
        except (FileNotFoundError, NotADirectoryError):  # no archive directory (yet): nothing archived
            return None
        except PermissionError as err:
            raise ArchiveError(f"no permission to list {self.archive_dir}: {err}") from err
        return None

    def get(self, path: str) -> Any | None:
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "jobs":
            return None
        entries = self._entries(parts[1])
        raw = entries.get(path) if entries else None
        if raw is None:
            return None
        try:
            return json.loads(raw)  # only the entries asked for are parsed
        except ValueError as err:
            raise ArchiveError(f"archive entry {path} of job {parts[1]} is not JSON: {err}") from err

    def _entries(self, job_id: str) -> dict[str, str] | None:
        if job_id not in self._archives:
            location = self.locate(job_id)
            if location is None:
                return None
            self._archives[job_id] = _read_archive(location)
        return self._archives[job_id]


def _read_archive(location: Any) -> dict[str, str]:
    """path -> JSON text of every entry in one job's archive (the inner JSON stays unparsed)."""
    try:
        document = json.loads(location.read_text())
    except PermissionError as err:
        raise ArchiveError(f"no permission to read archive {location}: {err}") from err
    except ValueError as err:
        raise ArchiveError(f"archive {location} is not JSON ({err}): is it a Flink job archive?") from err
    archive = document.get("archive") if isinstance(document, dict) else None
    if not isinstance(archive, list):
        raise ArchiveError(f"archive {location} has no 'archive' list: is it a Flink job archive?")
    return {str(entry.get("path")): str(entry.get("json")) for entry in archive if isinstance(entry, dict)}
