"""FlinkHistoryServerHook: job history from the HistoryServer REST API and the raw archive files.

Uses the same ``flink_batch`` connection as :class:`~airflow_provider_flinkbatch.session.hook.FlinkRestHook`
(its ``history_server_url``, ``archive_dir`` and ``archive_conn_id`` extras), so one connection describes
a cluster and its history. :meth:`diagnose` asks the JobManager first, then the HistoryServer, then
the archives, and says which sources it tried when none knows the job.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose
from airflow_provider_flinkbatch.history.sources import ArchiveJobSource, JobLookup, JobSource, RestJobSource
from airflow_provider_flinkbatch.rest.calls import check_job_id
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID, FlinkConnectionSettings
from airflow_provider_flinkbatch.session.hook import FlinkRestHook


def _diagnosis_retry() -> RetryPolicy:
    return RetryPolicy(budget=15.0)


class JobHistoryNotFound(LookupError):
    """No source knows the job; the message lists the sources tried and what each said."""


class FlinkHistoryServerHook(BaseHook):
    """Read finished jobs from the Flink HistoryServer and from ``jobmanager.archive.fs.dir`` archives.

    :param flink_conn_id: a ``flink_batch`` connection with ``history_server_url`` and/or ``archive_dir``.
    :param settings: used instead of the connection's (a target whose JobManager is elsewhere, e.g. a
        Kubernetes resource's ``rest_url_template``, passes the connection's settings with that ``rest_url``).
    """

    conn_name_attr = "flink_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    hook_name = "Flink Batch HistoryServer"

    def __init__(
        self,
        flink_conn_id: str = DEFAULT_CONN_ID,
        retry: RetryPolicy | None = None,
        settings: FlinkConnectionSettings | None = None,
    ) -> None:
        super().__init__()
        self.flink_conn_id = flink_conn_id
        # Diagnosis is a best effort after the fact: a dead source is skipped after a short retry budget.
        self.retry = retry or _diagnosis_retry()
        self._settings = settings

    @cached_property
    def settings(self) -> FlinkConnectionSettings:
        return self._settings or FlinkRestHook(self.flink_conn_id).settings

    @cached_property
    def jobmanager(self) -> JobSource:
        return RestJobSource("jobmanager", FlinkRestClient(self.settings, self.retry))

    @cached_property
    def history_server(self) -> JobSource | None:
        settings = self.settings.for_history_server()
        return RestJobSource("historyserver", FlinkRestClient(settings, self.retry)) if settings else None

    @cached_property
    def archive(self) -> JobSource | None:
        if not self.settings.archive_dir:
            return None
        return ArchiveJobSource(self.settings.archive_dir, self.settings.archive_conn_id)

    def sources(self, *, include_jobmanager: bool = True) -> list[JobSource]:
        """In the order a job's facts are looked up: live JobManager, HistoryServer, archive files."""
        found = [self.jobmanager] if include_jobmanager else []
        return found + [source for source in (self.history_server, self.archive) if source is not None]

    def list_jobs(self) -> list[dict[str, Any]]:
        """Jobs the HistoryServer has archived (``/jobs/overview``)."""
        if self.history_server is None:
            raise JobHistoryNotFound(f"connection {self.flink_conn_id!r} has no history_server_url")
        return list((self.history_server.get("/jobs/overview") or {}).get("jobs", []))

    def job_details(self, job_id: str, *, include_jobmanager: bool = True) -> tuple[str, dict[str, Any]]:
        """(source name, ``/jobs/<id>`` JSON) from the first source that knows the job."""
        source, details, _ = self._first(job_id, include_jobmanager)
        return source.name, details

    def diagnose(
        self, job_id: str, *, include_jobmanager: bool = True, retry_on: dict[str, bool] | None = None
    ) -> Diagnosis:
        """Root cause, location and classification of a job, from the first source that knows it."""
        source, details, tried = self._first(job_id, include_jobmanager)
        exceptions = source.get(f"/jobs/{job_id}/exceptions")
        result = diagnose(job_id, details, exceptions, source=source.name, retry_on=retry_on)
        return result.model_copy(update={"sources_tried": tried})

    def _first(self, job_id: str, include_jobmanager: bool) -> tuple[JobSource, dict[str, Any], list[str]]:
        check_job_id(job_id)
        source, details, tried = JobLookup(self.sources(include_jobmanager=include_jobmanager)).first(f"/jobs/{job_id}")
        if source is not None:
            return source, details, tried
        configured = (
            ""
            if self.archive is not None and self.history_server is not None
            else (" (set history_server_url and archive_dir on the connection to look further)")
        )
        raise JobHistoryNotFound(
            f"Flink job {job_id} is not known to any source{configured}; tried: " + "; ".join(tried)
        )
