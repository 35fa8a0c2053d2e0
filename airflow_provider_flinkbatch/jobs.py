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
_JDK_FRAMES = ("java.", "javax.", "jdk.", "sun.")
_MAIN_ERROR = re.compile(r"The main method caused an error: (.*)")


class VertexSummary(BaseModel):
    """One job vertex (a chain of operators) with the counters Flink reports for it."""

    name: str
    status: str
    parallelism: int | None = None
    duration_ms: int | None = None
    records_in: int | None = None
    records_out: int | None = None
    bytes_in: int | None = None
    bytes_out: int | None = None


class JobSummary(BaseModel):
    """The XCom result of a finished job: what a user checks first.

    ``records_written`` is the number of records that reached the sinks *when Flink reports it*: a
    vertex's input counter equals its sink's input only if no source is chained into that vertex
    (Flink counts a chained source's output as the vertex's input). Otherwise it is ``None`` and the
    per-vertex counters tell the story.
    """

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
    max_parallelism: int | None = None
    #: Bytes vertices sent to other vertices (network/shuffle output; sinks write none).
    shuffle_bytes: int | None = None
    vertices: list[VertexSummary] = []

    def metrics(self) -> dict[str, Any]:
        """The per-run figures worth charting over time (XCom ``flink_metrics``)."""
        return self.model_dump(
            include={
                "job_id",
                "state",
                "duration_ms",
                "records_read",
                "records_written",
                "max_parallelism",
                "shuffle_bytes",
                "vertices",
            }
        )

    def finished_line(self) -> str:
        """The task log's line for a FINISHED job."""
        written = f"{self.records_written} records written" if self.records_written is not None else None
        return (
            f"Flink job {self.job_id} FINISHED in {(self.duration_ms or 0) / 1000:.1f}s: "
            f"{self.vertices_finished}/{self.vertices_total} vertices finished, {self.records_read} records read, "
            f"{written or 'records written not reported by Flink'}"
        )

    def metrics_table(self) -> str:
        """One compact table: a line per vertex, then the totals."""
        rows = [("vertex", "par", "time", "rec in", "rec out", "bytes in", "bytes out")]
        for v in self.vertices:
            name = v.name if len(v.name) <= 48 else v.name[:45] + "..."
            rows.append(
                (
                    name,
                    _text(v.parallelism),
                    _seconds(v.duration_ms),
                    _text(v.records_in),
                    _text(v.records_out),
                    _size(v.bytes_in),
                    _size(v.bytes_out),
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        ]
        lines.append(
            f"total: {_seconds(self.duration_ms)}, max parallelism {_text(self.max_parallelism)}, "
            f"shuffle {_size(self.shuffle_bytes)}, records read {_text(self.records_read)}, "
            f"written {_text(self.records_written)}"
        )
        return "\n".join(lines)


def _text(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.1f}s"


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{value} B"


def is_terminal(state: str) -> bool:
    return state in TERMINAL_STATES


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def summarize_job(details: dict[str, Any]) -> JobSummary:
    """Build the summary from ``GET /jobs/<id>`` (the same JSON the HistoryServer archives)."""
    vertices = [
        VertexSummary(
            name=str(v.get("name", ""))[:300],
            status=str(v.get("status", "")),
            parallelism=_int(v.get("parallelism")),
            duration_ms=_int(v.get("duration")),
            records_in=_int((v.get("metrics") or {}).get("read-records")),
            records_out=_int((v.get("metrics") or {}).get("write-records")),
            bytes_in=_int((v.get("metrics") or {}).get("read-bytes")),
            bytes_out=_int((v.get("metrics") or {}).get("write-bytes")),
        )
        for v in details.get("vertices") or []
    ]
    sources = [v for v in vertices if v.name.startswith("Source")]
    sinks = [v for v in vertices if "Sink" in v.name]
    source_counts = [v.records_in for v in sources]
    sink_counts = [v.records_in for v in sinks]
    start, end = _int(details.get("start-time")), _int(details.get("end-time"))
    return JobSummary(
        job_id=str(details["jid"]),
        name=str(details.get("name", "")),
        state=str(details["state"]),
        start_time=start or None,
        end_time=end or None,
        duration_ms=_int(details.get("duration")),
        vertices_total=len(vertices),
        vertices_finished=sum(1 for v in vertices if v.status == "FINISHED"),
        records_read=sum(c for c in source_counts if c is not None) if sources and None not in source_counts else None,
        records_written=(
            sum(c for c in sink_counts if c is not None)
            if sinks and None not in sink_counts and not any(v in sources for v in sinks)
            else None
        ),
        max_parallelism=max((v.parallelism for v in vertices if v.parallelism), default=None),
        shuffle_bytes=sum(v.bytes_out or 0 for v in vertices) if vertices else None,
        vertices=vertices,
    )


class RootCause(BaseModel):
    """The deepest exception of a failure plus where it happened, in a few lines."""

    exception_class: str
    message: str
    task: str | None = None
    location: str | None = None
    task_manager_id: str | None = None
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
    frames = [line.strip()[3:] for line in rest.splitlines() if line.strip().startswith("at ")]
    # The frames that matter are the first ones outside the JDK (where the value was parsed, the file read).
    own = [frame for frame in frames if not frame.startswith(_JDK_FRAMES)]
    return cls, msg.strip(), (own or frames)[:3]


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
        task_manager_id=located.get("taskManagerId"),
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


def is_duplicate_submission(errors: list[str]) -> bool:
    return any("DuplicateApplicationSubmissionException" in e or "already been submitted" in e for e in errors)
