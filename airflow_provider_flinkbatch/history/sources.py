"""Job history sources that answer Flink REST paths (``/jobs/<id>``, ``/jobs/<id>/exceptions``, ...).

The JobManager and the HistoryServer serve these paths over HTTP; an archive file written by
``jobmanager.archive.fs.dir`` stores the very same paths and JSON. So one interface covers all
three, and :class:`JobLookup` is the one "ask the JobManager, then the HistoryServer, then the
archives" chain every target and the diagnosis use: which sources a backend has differs (a YARN
application's JobManager is behind the web proxy, a Kubernetes one behind ``rest_url_template``),
the order does not. What a source's *failure* means is the caller's policy, stated as ``on_error``: a
diagnosis after the fact skips a dead source (``"skip"``); a task waiting for its job must not mistake an
outage for "job unknown" and lets non-404 errors through (``"raise"``). :class:`AsyncJobLookup` is the
same chain for the triggers; :func:`listed_attempts` is the one scan of a source's ``/jobs/overview`` for
a task instance's earlier attempts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.identity import DEFAULT_DEPLOYMENT, DEPLOYMENT_PARAM, PARAM_PREFIX, provider_job_id
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, FlinkRestClient
from airflow_provider_flinkbatch.rest.errors import FlinkBadResponseError, FlinkNotFoundError, FlinkRestError


class ArchiveError(FlinkBatchError, RuntimeError):
    """An archive exists but cannot be read or parsed; the message names the file."""


class JobSource(Protocol):
    """Answers Flink REST paths about jobs; ``None`` when this source does not know the path."""

    name: str

    def get(self, path: str) -> Any | None: ...


T = TypeVar("T")

#: What a failing source (unreachable, proxy error page, unreadable archive) means to the chain.
OnError = Literal["skip", "raise"]
#: How many of a source's newest jobs a search by identity parameters reads the configuration of.
SCAN_LIMIT = 500


class AsyncJobSource(Protocol):
    """:class:`JobSource` for the triggers' event loop."""

    name: str

    async def get(self, path: str) -> Any | None: ...


class JobLookup:
    """Ask each source in turn; the first that knows the path answers.

    ``on_error="skip"`` (default): a source that fails is skipped like one that does not know the path;
    ``"raise"``: its error ends the lookup. ``tried`` says what each one said, for the user's message.
    """

    def __init__(self, sources: Sequence[JobSource], *, on_error: OnError = "skip") -> None:
        self.sources = sources
        self.on_error = on_error

    def first(self, path: str) -> tuple[JobSource | None, Any, list[str]]:
        """(source, answer, what was tried) from the first source that knows ``path``; source and answer are
        ``None`` when none does."""
        tried = _Tried(self.on_error)
        for source in self.sources:
            if tried.knows(source, *_answer(source.get, path)):
                return source, tried.answer, list(tried)
        return None, None, list(tried)

    def get(self, path: str) -> Any | None:
        return self.first(path)[1]

    def find_provider_job(self, job_id: str, *, limit: int = SCAN_LIMIT) -> tuple[JobSource | None, str | None]:
        """(source, Flink job id) of the job the provider submitted as ``job_id`` but Flink runs under another id
        (a FlinkSessionJob's, chosen by the operator), found by its identity parameters among each source's newest
        ``limit`` jobs (:func:`listed_attempts`); ``(None, None)`` if no source has it."""
        for source in self.sources:
            try:
                found = listed_attempts(source, {job_id: 0}, by_parameters=True, limit=limit)
            except _FAILURES:
                if self.on_error == "raise":
                    raise
                continue
            if found:
                return source, found[0].flink_job_id or found[0].job_id
        return None, None


class AsyncJobLookup:
    """:class:`JobLookup` for the triggers (same order, same ``on_error`` policies)."""

    def __init__(self, sources: Sequence[AsyncJobSource], *, on_error: OnError = "skip") -> None:
        self.sources = sources
        self.on_error = on_error

    async def first(self, path: str) -> tuple[AsyncJobSource | None, Any, list[str]]:
        tried = _Tried(self.on_error)
        for source in self.sources:
            if tried.knows(source, *await _async_answer(source.get, path)):
                return source, tried.answer, list(tried)
        return None, None, list(tried)


_FAILURES = (FlinkRestError, ArchiveError)


def _answer(get: Any, path: str) -> tuple[Any, Exception | None]:
    try:
        return get(path), None
    except _FAILURES as err:
        return None, err


async def _async_answer(get: Any, path: str) -> tuple[Any, Exception | None]:
    try:
        return await get(path), None
    except _FAILURES as err:
        return None, err


class _Tried(list[str]):
    """What each source of a chain said; applies the chain's ``on_error`` to a failed source."""

    def __init__(self, on_error: OnError) -> None:
        super().__init__()
        self.on_error = on_error
        self.answer: Any = None

    def knows(self, source: object, answer: Any, error: Exception | None) -> bool:
        if error is not None:
            if self.on_error == "raise":
                raise error
            self.append(f"{source!r}: {error}")
            return False
        self.append(f"{source!r}: " + ("not found" if answer is None else "found"))
        self.answer = answer
        return answer is not None


def parse_answer(call: calls.ApiCall[T], answer: Any, source: object) -> T:
    """``call``'s parser on what a source of the chain answered; a malformed answer is a
    :class:`FlinkBadResponseError` (as the REST client reports it), not a ``KeyError``."""
    try:
        return call.parse(answer)
    except (KeyError, TypeError, ValueError) as err:
        message = f"{source!r} answered {call.path} without Flink's fields: {err}"
        raise FlinkBadResponseError(message, url=repr(source)) from err


@dataclass(frozen=True)
class ListedAttempt:
    """A job of a task instance that a source's ``/jobs/overview`` lists, with its submitted fingerprint."""

    job_id: str
    attempt: int
    state: str
    fingerprint: str | None
    #: The id Flink runs the job under, when it is not the provider's ``job_id`` (a FlinkSessionJob's).
    flink_job_id: str | None = None
    #: Its ``airflow.deployment`` (a job submitted before deployments existed: the default one).
    deployment: str = DEFAULT_DEPLOYMENT


def listed_attempts(
    source: JobSource, candidates: Mapping[str, int], *, by_parameters: bool = False, limit: int = SCAN_LIMIT
) -> list[ListedAttempt]:
    """The jobs among ``candidates`` (job id -> attempt) that ``source`` lists, in its overview's order; their
    fingerprint comes from ``/jobs/<id>/config``. A failing source raises (the caller decides what it means).

    ``by_parameters``: the jobs run under ids the provider did not choose (FlinkSessionJobs: the operator's), so
    the source's newest ``limit`` jobs are matched by their identity parameters instead of their ids.
    """
    jobs = _newest(source, limit) if by_parameters else (source.get("/jobs/overview") or {"jobs": []}).get("jobs", [])
    found = []
    for job in jobs:
        flink_id = str(job.get("jid"))
        if not by_parameters and flink_id not in candidates:
            continue
        user_config = _user_config(source, flink_id)
        job_id = provider_job_id(user_config) if by_parameters else flink_id
        if job_id is None or job_id not in candidates:
            continue
        fingerprint = user_config.get(f"{PARAM_PREFIX}fingerprint")
        other = flink_id if flink_id != job_id else None
        deployment = str(user_config.get(DEPLOYMENT_PARAM) or DEFAULT_DEPLOYMENT)
        found.append(ListedAttempt(job_id, candidates[job_id], str(job.get("state")), fingerprint, other, deployment))
    return found


def _newest(source: JobSource, limit: int) -> list[dict[str, Any]]:
    jobs = (source.get("/jobs/overview") or {"jobs": []}).get("jobs", [])
    return sorted(jobs, key=lambda job: -int(job.get("start-time") or 0))[:limit]


def _user_config(source: JobSource, job_id: str) -> dict[str, Any]:
    """A job's global job parameters (where the provider puts its identity)."""
    config = source.get(f"/jobs/{job_id}/config") or {}
    return dict((config.get("execution-config") or {}).get("user-config") or {})


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


class AsyncRestJobSource:
    """:class:`RestJobSource` on an async client (the triggers')."""

    def __init__(self, name: str, client: AsyncFlinkRestClient) -> None:
        self.name = name
        self.client = client

    async def get(self, path: str) -> Any | None:
        try:
            return await self.client.call(calls.ApiCall("GET", path, lambda body: body))
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
