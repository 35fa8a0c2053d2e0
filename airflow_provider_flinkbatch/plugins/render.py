"""HTML of the views: Jinja templates (autoescaped: job names and exception messages are user data).

Plain server-rendered pages with inline CSS: the UI shows them in an iframe tab, no JavaScript build.
"""

from __future__ import annotations

from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, select_autoescape

from airflow_provider_flinkbatch.plugins.facts import FlinkJobView
from airflow_provider_flinkbatch.plugins.metadata import RunTaskRow
from airflow_provider_flinkbatch.session.state import JobState


def duration(ms: int | None) -> str:
    """``1.2 s``, ``3 min 4 s``; ``-`` when Flink did not report it."""
    if ms is None or ms < 0:
        return "-"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes} min {seconds} s"


def timestamp(ms: int | None) -> str:
    if not ms or ms < 0:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def state_class(state: str | None) -> str:
    """CSS class of a Flink state badge: ok, failed, running or other."""
    if not state:
        return "other"
    outcome = JobState.of(state)
    if outcome.succeeded:
        return "ok"
    if outcome.failed:
        return "failed"
    return "running" if outcome.running else "other"


_ENV = Environment(
    loader=PackageLoader("airflow_provider_flinkbatch.plugins", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters.update(duration=duration, timestamp=timestamp, count=count, state_class=state_class)


def render_task(view: FlinkJobView) -> str:
    total = max([view.duration_ms or 0] + [(v.start_offset_ms or 0) + (v.duration_ms or 0) for v in view.vertices])
    return _ENV.get_template("task.html").render(view=view, timeline_ms=total or 1)


def render_run(dag_id: str, run_id: str, rows: list[RunTaskRow]) -> str:
    return _ENV.get_template("run.html").render(dag_id=dag_id, run_id=run_id, rows=rows)
