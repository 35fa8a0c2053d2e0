"""What the "Flink job" view shows for one task instance, gathered from Flink and from the task's XComs.

The job's facts come from the one lookup chain (:class:`~airflow_provider_flinkbatch.history.sources.JobLookup`:
JobManager at the address the task's target used, then HistoryServer, then the archives, see :mod:`.sources`),
so the view still works after a restarted JobManager forgot the job or YARN/Kubernetes removed it; when no
source knows it any more, the summary and the diagnosis the task stored in XCom stand in, and the view says so.
The attempts come from the identity scheme (every job id this task instance may have used is computable).
Nothing here returns connection settings: only job facts and the public base URLs the extra links use.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose
from airflow_provider_flinkbatch.failures import DIAGNOSIS_XCOM_KEY
from airflow_provider_flinkbatch.history.sources import JobLookup, JobSource, RestJobSource, listed_attempts
from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.jobs import JobSummary, VertexSummary, summarize_job
from airflow_provider_flinkbatch.links.flink import XCOM_KEY
from airflow_provider_flinkbatch.links.urls import flink_job_id, job_links
from airflow_provider_flinkbatch.plan.check import PLAN_XCOM_KEY
from airflow_provider_flinkbatch.plan.insight import PlanInsight
from airflow_provider_flinkbatch.plugins.sources import view_sources
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkRestError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
from airflow_provider_flinkbatch.session.state import JobState

#: A page view must not hang on a dead JobManager: each source gets a short retry budget.
VIEW_RETRY_BUDGET = 5.0


class TaskInstanceRef(BaseModel):
    """The task instance (its latest try) the view is about."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 0
    state: str | None = None


class AttemptRow(BaseModel):
    """One Flink job this task instance submitted (identity attempt n), as a source lists it."""

    attempt: int
    job_id: str
    state: str
    fingerprint: str | None = None
    source: str
    latest: bool = False


class VertexRow(VertexSummary):
    """A vertex with where it sits on the job's timeline (ms after the job started; ``None``: not known)."""

    start_offset_ms: int | None = None


class FlinkJobView(BaseModel):
    """Everything the view renders (also the JSON API's answer)."""

    task: TaskInstanceRef
    job_id: str | None = None
    #: the id Flink runs the job under (a Kubernetes FlinkSessionJob's is the operator's choice)
    flink_job_id: str | None = None
    target: str | None = None
    #: which source answered: ``jobmanager``, ``historyserver``, ``archive``, or ``task XCom``
    source: str | None = None
    sources_tried: list[str] = []
    name: str | None = None
    state: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    duration_ms: int | None = None
    records_read: int | None = None
    records_written: int | None = None
    vertices: list[VertexRow] = []
    diagnosis: Diagnosis | None = None
    attempts: list[AttemptRow] = []
    plan: PlanInsight | None = None
    links: dict[str, str] = {}
    notes: list[str] = []


def job_view(task: TaskInstanceRef, xcoms: dict[str, Any]) -> FlinkJobView:
    """The view of ``task``'s Flink job; ``xcoms``: the latest try's XCom values by key."""
    view = FlinkJobView(task=task, plan=_plan(xcoms.get(PLAN_XCOM_KEY)))
    info: dict[str, Any] = _mapping(xcoms.get(XCOM_KEY))
    if not info.get("job_id"):
        view.notes.append("This task instance has not submitted a Flink job (yet).")
        return view
    view.job_id, view.target = str(info["job_id"]), info.get("target")
    view.flink_job_id = flink_job_id(info, view.job_id)
    try:
        sources = view_sources(info, RetryPolicy(budget=VIEW_RETRY_BUDGET))
    except FlinkConnectionError as err:
        view.notes.append(f"Cannot ask Flink about the job: {err}")
        sources = []
    details = _from_sources(view, sources, xcoms)
    # While the job runs, the Flink UI link opens the running job (the completed route would not show it).
    ended = JobState.of(view.state).terminal if view.state else bool(info.get("finished"))
    view.links = _links(info, finished=ended)
    if details is not None and not JobState.from_json(details).succeeded and JobState.from_json(details).terminal:
        view.diagnosis = _diagnosis(view, sources, details)
    elif isinstance(xcoms.get(DIAGNOSIS_XCOM_KEY), dict):
        view.diagnosis = Diagnosis.model_validate(xcoms[DIAGNOSIS_XCOM_KEY])
    view.attempts = _attempts(task, view.job_id, sources, view, by_parameters=view.flink_job_id != view.job_id)
    return view


def _from_sources(view: FlinkJobView, sources: list[JobSource], xcoms: dict[str, Any]) -> dict[str, Any] | None:
    """Fill the job's facts from the first source that knows it, else from the task's stored summary."""
    assert view.job_id is not None
    source, details, tried = JobLookup(sources).first(f"/jobs/{view.flink_job_id}")
    view.sources_tried = tried
    stored = xcoms.get("return_value")
    ids = (view.job_id, view.flink_job_id)
    stored = JobSummary.model_validate(stored) if isinstance(stored, dict) and stored.get("job_id") in ids else None
    if source is not None and isinstance(details, dict):
        view.source = source.name
        _apply(view, summarize_job(details))
        _place_on_timeline(view, details)
        if stored is not None:  # rows written: the runner's counters, read when the task finished
            view.records_read = view.records_read if view.records_read is not None else stored.records_read
            view.records_written = view.records_written if view.records_written is not None else stored.records_written
        return details
    if stored is not None:
        view.source = "task XCom"
        _apply(view, stored)
        view.notes.append("No Flink source knows the job any more; showing the summary the task stored.")
    else:
        view.notes.append("No Flink source knows the job (tried: " + "; ".join(tried or ["no source configured"]) + ")")
    return None


def _apply(view: FlinkJobView, summary: JobSummary) -> None:
    view.name, view.state = summary.name, summary.state
    view.start_time, view.end_time, view.duration_ms = summary.start_time, summary.end_time, summary.duration_ms
    view.records_read, view.records_written = summary.records_read, summary.records_written
    view.vertices = [VertexRow(**vertex.model_dump()) for vertex in summary.vertices]


def _place_on_timeline(view: FlinkJobView, details: dict[str, Any]) -> None:
    """Each vertex's start relative to the job's (Flink's ``start-time`` fields, -1 while not started)."""
    raw = details.get("vertices") or []
    if view.start_time is None or len(raw) != len(view.vertices):
        return
    for row, vertex in zip(view.vertices, raw, strict=True):
        start = vertex.get("start-time")
        if isinstance(start, int) and start >= view.start_time:
            row.start_offset_ms = start - view.start_time


def _diagnosis(view: FlinkJobView, sources: list[JobSource], details: dict[str, Any]) -> Diagnosis:
    """The diagnosis from the source that answered (its ``/exceptions`` sits next to ``/jobs/<id>``)."""
    assert view.flink_job_id is not None
    source = next(s for s in sources if s.name == view.source)
    try:
        exceptions = source.get(f"/jobs/{view.flink_job_id}/exceptions")
    except FlinkRestError as err:
        view.notes.append(f"{source!r} did not give the job's exceptions: {err}")
        exceptions = None
    found = diagnose(view.flink_job_id, details, exceptions, source=source.name)
    return found.model_copy(update={"sources_tried": view.sources_tried})


def _attempts(
    task: TaskInstanceRef, latest: str, sources: list[JobSource], view: FlinkJobView, *, by_parameters: bool
) -> list[AttemptRow]:
    """This task instance's jobs that the JobManager or the HistoryServer lists (archives have no overview);
    ``by_parameters``: they run under ids Flink chose (FlinkSessionJobs), found by their identity parameters."""
    identity = JobIdentity(
        dag_id=task.dag_id, task_id=task.task_id, run_id=task.run_id, map_index=task.map_index, fingerprint=""
    )
    candidates = identity.candidate_job_ids()
    rows: dict[str, AttemptRow] = {}
    for source in sources:
        if not isinstance(source, RestJobSource):  # an archive is one job's file: it lists no jobs
            continue
        try:
            found = listed_attempts(source, candidates, by_parameters=by_parameters)
        except FlinkRestError as err:
            view.notes.append(f"{source!r} did not list the attempts: {err}")
            continue
        for job in found:
            rows.setdefault(job.job_id, AttemptRow(**asdict(job), source=source.name, latest=job.job_id == latest))
    return sorted(rows.values(), key=lambda row: row.attempt)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _plan(value: Any) -> PlanInsight | None:
    return PlanInsight.model_validate(value) if isinstance(value, dict) and "scans" in value else None


def _links(info: dict[str, Any], *, finished: bool) -> dict[str, str]:
    """The pages the extra links open (base URLs without any user:password part)."""
    public: dict[str, Any] = {key: _public(info[key]) for key in ("web_ui_url", "history_server_url") if info.get(key)}
    return job_links({**public, "flink_job_id": info.get("flink_job_id")}, str(info["job_id"]), finished=finished)


def _public(url: str) -> str:
    parts = urlsplit(str(url))
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
