"""Where the "Flink job" view asks about a task's job: the sources of the one lookup chain
(:class:`~airflow_provider_flinkbatch.history.sources.JobLookup`), with the JobManager at the address the task's
target used, read from the ``flink_job`` XCom the target wrote.

* session: the ``flink_batch`` connection's JobManager, HistoryServer and archives;
* kubernetes: the resource's JobManager (``rest_url``, from ``rest_url_template``) with that connection's auth
  and TLS, then its HistoryServer and archives (a task without ``rest_url_template`` has no JobManager to ask);
* yarn: the ResourceManager says whether the application still runs; if so its JobManager is asked through
  the web proxy (the tracking URL), then the ``flink_yarn`` connection's HistoryServer.

The view never builds a Kubernetes client: the XCom carries all it needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook
from airflow_provider_flinkbatch.history.sources import JobSource, RestJobSource
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID, FlinkConnectionError, FlinkConnectionSettings
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.targets.base import JobHandle
from airflow_provider_flinkbatch.yarn.options import YarnTargetOptions
from airflow_provider_flinkbatch.yarn.target import YarnTarget


def view_sources(info: Mapping[str, Any], retry: RetryPolicy) -> list[JobSource]:
    """The sources to ask about the job of a ``flink_job`` XCom, JobManager first; raises
    :class:`FlinkConnectionError` when the task's connection is missing or wrong."""
    conn_id = str(info.get("conn_id") or DEFAULT_CONN_ID)
    kind = info.get("target") or "session"
    if kind == "yarn":
        handle = JobHandle(target=kind, conn_id=conn_id, job_id=str(info["job_id"]), ref=info.get("ref"))
        target = YarnTarget.from_connection(conn_id, YarnTargetOptions(), retry)
        try:
            return target.job_sources(handle)
        finally:
            target.rm.close()  # one ResourceManager question per page view
    if kind == "kubernetes":
        return _kubernetes_sources(conn_id, info.get("rest_url"), retry)
    return FlinkHistoryServerHook(conn_id, retry).sources()


def _kubernetes_sources(conn_id: str, rest_url: str | None, retry: RetryPolicy) -> list[JobSource]:
    try:
        settings: FlinkConnectionSettings | None = FlinkRestHook(conn_id).settings
    except FlinkConnectionError:  # a Kubernetes task may run without a flink_batch connection
        settings = None
    if settings is None:
        jobmanager = FlinkRestClient(FlinkConnectionSettings(rest_url=rest_url), retry) if rest_url else None
        return [RestJobSource("jobmanager", jobmanager)] if jobmanager else []
    if rest_url:
        settings = settings.model_copy(update={"rest_url": rest_url})
    return FlinkHistoryServerHook(conn_id, retry, settings=settings).sources(include_jobmanager=bool(rest_url))
