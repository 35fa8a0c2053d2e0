"""What the provider knows about a Flink job: states, the success summary, the failure's root cause.

Pure functions over Flink's REST JSON, shared by the blocking and the deferrable paths and (later)
by HistoryServer-based diagnosis, which reads the same JSON from archives.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

TERMINAL_STATES = frozenset({"FINISHED", "FAILED", "CANCELED", "SUSPENDED"})
SUCCESS_STATE = "FINISHED"
_CAUSED_BY = re.compile(r"^Caused by: (\S+?)(?::\s*(.*))?$", re.MULTILINE)
_FIRST_LINE = re.compile(r"^(\S+?)(?::\s*(.*))?$")
_MAIN_ERROR = re.compile(r"The main method caused an error: (.*)")


class JobSummary(BaseModel):
    """The XCom result of a finished job: what a user checks first."""

    job_id: str
    name: str
    state: str
    start_time: int | None = None
    end_time: int | None = None
    duration_ms: int | None = None
    vertices_total: int = 0
    vertices_finished: int = 0
    records_read: int | None = None
    records_written: int | None = None
    bytes_written: int | None = None


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES


def summarize_job(details: dict[str, Any]) -> JobSummary:
    """Build the summary from ``GET /jobs/<id>``; sink totals come from vertices with no consumer."""
    vertices = details.get("vertices") or []
    written = [v.get("metrics", {}) for v in vertices if v.get("metrics")]

    def total(key: str) -> int | None:
        values = [m[key] for m in written if isinstance(m.get(key), int)]
        return sum(values) if values else None

    # A batch job's vertices: sources read, the last vertex (sinks) "writes" its output externally.
    # Flink reports write-records only for records sent downstream, so sink output is the sum of
    # records read by vertices that contain a sink.
    sink_reads = [
        v.get("metrics", {}).get("read-records")
        for v in vertices
        if "Sink" in str(v.get("name", "")) and isinstance(v.get("metrics", {}).get("read-records"), int)
    ]
    start = details.get("start-time")
    end = details.get("end-time")
    return JobSummary(
        job_id=str(details["jid"]),
        name=str(details.get("name", "")),
        state=str(details["state"]),
        start_time=start if isinstance(start, int) and start > 0 else None,
        end_time=end if isinstance(end, int) and end > 0 else None,
        duration_ms=details.get("duration") if isinstance(details.get("duration"), int) else None,
        vertices_total=len(vertices),
        vertices_finished=sum(1 for v in vertices if v.get("status") == "FINISHED"),
        records_read=total("read-records"),
        records_written=sum(sink_reads) if sink_reads else total("write-records"),
        bytes_written=total("write-bytes"),
    )


class RootCause(BaseModel):
    """The deepest exception of a failure plus where it happened, in a few lines."""

    exception_class: str
    message: str
    task: str | None = None
    location: str | None = None
    frames: list[str] = []

    def describe(self) -> str:
        text = f"{self.exception_class}: {self.message}".rstrip(": ")
        if self.task:
            text += f"\n  in task: {self.task}"
        if self.location:
            text += f"\n  on TaskManager: {self.location}"
        for frame in self.frames:
            text += f"\n  at {frame}"
        return text


def root_cause_of_stacktrace(stacktrace: str) -> tuple[str, str, list[str]]:
    """(class, message, first frames) of the last ``Caused by:`` — Flink's real cause is the deepest one."""
    causes = list(_CAUSED_BY.finditer(stacktrace))
    if causes:
        last = causes[-1]
        cls, msg, rest = last.group(1), last.group(2) or "", stacktrace[last.end() :]
    else:
        first = _FIRST_LINE.match(stacktrace.strip().splitlines()[0] if stacktrace.strip() else "")
        cls, msg = (first.group(1), first.group(2) or "") if first else ("unknown", "")
        rest = stacktrace
    frames = [line.strip()[3:] for line in rest.splitlines() if line.strip().startswith("at ")][:3]
    return cls, msg.strip(), frames


def root_cause_from_exceptions(exceptions: dict[str, Any]) -> RootCause | None:
    """Read ``GET /jobs/<id>/exceptions`` (Flink 2.x ``exceptionHistory``, newest entry first)."""
    entries = (exceptions.get("exceptionHistory") or {}).get("entries") or []
    if not entries:
        return None
    entry = entries[0]
    cls, msg, frames = root_cause_of_stacktrace(str(entry.get("stacktrace") or entry.get("exceptionName", "")))
    concurrent = entry.get("concurrentExceptions") or []
    located = entry if entry.get("taskName") else (concurrent[0] if concurrent else {})
    return RootCause(
        exception_class=cls,
        message=msg,
        task=located.get("taskName"),
        location=located.get("endpoint") or located.get("location"),
        frames=frames,
    )


def submission_failure_message(errors: list[str]) -> str:
    """The line a user needs from a rejected ``/jars/<id>/run``: the runner's or the planner's message."""
    text = "\n".join(errors)
    main = _MAIN_ERROR.search(text)
    if main:
        return main.group(1).strip()
    cls, msg, _ = root_cause_of_stacktrace(text)
    return f"{cls}: {msg}" if msg else cls


_USER_SQL_ERROR_MARKERS = (
    "SqlValidatorException",
    "SqlParseException",
    "ValidationException",
    "SQL validation failed",
    "SQL parse failed",
    "FlinkBatchSqlRunner",
    "Statement ",
    "no INSERT statement",
    "Could not find any factory",
)


def is_sql_error(errors: list[str]) -> bool:
    """True when the submission failed because of the SQL itself (retrying cannot help)."""
    text = "\n".join(errors)
    return any(marker in text for marker in _USER_SQL_ERROR_MARKERS)


def is_duplicate_submission(errors: list[str]) -> bool:
    return any("DuplicateApplicationSubmissionException" in e or "already been submitted" in e for e in errors)
