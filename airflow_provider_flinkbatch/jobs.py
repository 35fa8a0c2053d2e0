"""What the provider knows about a Flink job: the success summary, the failure's root cause (its state:
:mod:`~airflow_provider_flinkbatch.session.state`).

Pure functions over Flink's REST JSON, shared by the blocking and the deferrable paths and (later)
by HistoryServer-based diagnosis, which reads the same JSON from archives.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from pydantic import BaseModel

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


class TableCount(BaseModel):
    """Rows one table gave (a source: over all its scans) or took (a sink), or ``None`` with the reason."""

    table: str
    rows: int | None = None
    scans: int = 1
    note: str | None = None


class JobSummary(BaseModel):
    """The XCom result of a finished job: what a user checks first.

    ``sources`` / ``sinks``: rows per table, from the final per-task counters Flink keeps for a finished
    job (see :func:`table_counts`); ``records_read`` / ``records_written`` are their sums when every
    table's count is known, else ``None`` (never a partial sum).
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
    sources: list[TableCount] = []
    sinks: list[TableCount] = []

    def finished_line(self) -> str:
        """The task log's line for a FINISHED job: totals, then rows per table."""
        read = f"{self.records_read:,} records read" if self.records_read is not None else None
        written = f"{self.records_written:,} records written" if self.records_written is not None else None
        return (
            f"Flink job {self.job_id} FINISHED in {(self.duration_ms or 0) / 1000:.1f}s: "
            f"{self.vertices_finished}/{self.vertices_total} vertices finished, "
            f"{read or 'records read not reported by Flink'}, {written or 'records written not reported by Flink'}"
            f"; per table: {self.tables_line() or '-'}"
        )

    def tables_line(self) -> str:
        """``orders 6,000 (2 scans), customers 200 read; revenue 35 written`` for the log line."""

        def one(count: TableCount) -> str:
            rows = "?" if count.rows is None else f"{count.rows:,}"
            return f"{count.table} {rows}" + (f" ({count.scans} scans)" if count.scans > 1 else "")

        parts = []
        if self.sources:
            parts.append(", ".join(one(c) for c in self.sources) + " read")
        if self.sinks:
            parts.append(", ".join(one(c) for c in self.sinks) + " written")
        notes = sorted({c.note for c in [*self.sources, *self.sinks] if c.note})
        return "; ".join(parts) + (f" (? = {'; '.join(notes)})" if notes else "")

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
                "sources",
                "sinks",
            }
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


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


_SCAN_TABLE = re.compile(
    r"TableSourceScan\(table=\[\[(?:[^,\]]+, )*?([^,\]]+?)(?:, (?:filter|project|partitions|metadata|limit)=|\]\])"
)
# Sources built with DataStream's fromSource name themselves "<Kind>-<catalog>.<database>.<table>" (Kafka's:
# "KafkaSource-default_catalog.default_database.page_views_raw"), with no TableSourceScan description.
_QUALIFIED_SOURCE = re.compile(r"^\w+-(?:[^.\s]+\.){2}(?P<table>[^.\s]+)$")
# Sink V2: "<table>[12]: Writer"; legacy sinks: "Sink: <table>[12]" (print) or "Sink: Filesystem" (no table).
_NAMED_SINK = re.compile(r"^(?:(?P<writer>[^\[:]+)\[\d+\]: Writer|Sink: (?P<legacy>[^\[]+)\[\d+\])$")
NOT_COUNTED_CHAINED = "Flink keeps no per-operator counts of a finished job; this sink is chained after other operators"
NOT_COUNTED_SHARED = "sources chained into one vertex: Flink counts only their sum"


def _source_table(node: dict[str, Any]) -> str:
    """The table a source node scans: from its ``TableSourceScan`` description, else from its operator name."""
    found = _SCAN_TABLE.search(str(node.get("description", "")))
    if found:
        return found.group(1)
    name = str(node["operator"])[len("Source: ") :].split("[")[0].strip()
    qualified = _QUALIFIED_SOURCE.match(name)
    return qualified.group("table") if qualified else name


def _inputs(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan / stream-graph node's inputs (the stream graph writes them as a Python-literal string)."""
    raw = node.get("inputs") or []
    if isinstance(raw, str):
        try:
            raw = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return []
    return [item for item in raw if isinstance(item, dict)]


def table_counts(details: dict[str, Any]) -> tuple[list[TableCount], list[TableCount]]:
    """Rows read per source table and rows written per sink, from the final counters of a finished job.

    Flink 2.3 keeps, for a finished job, only per-task counters (a vertex's ``read-records`` /
    ``write-records``); per-operator metrics are dropped when a task ends (``/jobs/<id>/vertices/<v>/metrics``
    then holds nothing, or the last sample taken while it ran). The batch planner chains scans into
    ``MultipleInput`` / ``Calc`` vertices whose names do not start with "Source", so the stream graph in
    ``/jobs/<id>`` (operator -> vertex) says where each scan runs, and per vertex:

    * a chained scan's rows = the vertex's ``read-records`` (which counts a chained source's records) minus
      what arrived over the network (each upstream vertex's ``write-records``, times the parallelism for a
      BROADCAST edge). Exact for one scan per vertex; two scans in one vertex share one sum (``None``);
    * a sink's rows are known when it heads its own vertex (its input is the vertex's ``read-records``);
      chained after a join or an aggregation its input is not counted anywhere once the job ended (``None``).
    """
    vertices = {str(v.get("id")): v for v in details.get("vertices") or []}
    plan_inputs = {str(n.get("id")): _inputs(n) for n in (details.get("plan") or {}).get("nodes") or []}
    stream = [n for n in (details.get("stream-graph") or {}).get("nodes") or [] if isinstance(n, dict)]
    vertex_of = {str(n.get("id")): str(n.get("job_vertex_id")) for n in stream}

    def metric(vertex_id: str, key: str) -> int | None:
        return _int(((vertices.get(vertex_id) or {}).get("metrics") or {}).get(key))

    def producers(vertex_id: str) -> set[str]:
        """Operators of the vertex whose records leave it (one means: every consumer gets the same records)."""
        return {
            str(edge.get("id"))
            for node in stream
            if vertex_of.get(str(node.get("id"))) != vertex_id
            for edge in _inputs(node)
            if vertex_of.get(str(edge.get("id"))) == vertex_id
        }

    def network_in(vertex_id: str) -> int | None:
        total = 0
        parallelism = _int((vertices.get(vertex_id) or {}).get("parallelism")) or 1
        for edge in plan_inputs.get(vertex_id, []):
            upstream = str(edge.get("id"))
            sent = metric(upstream, "write-records")
            if sent is None or len(producers(upstream)) > 1:
                return None
            total += sent * (parallelism if str(edge.get("ship_strategy", "")).upper() == "BROADCAST" else 1)
        return total

    scans: dict[str, list[int | None]] = {}
    notes: dict[str, str] = {}
    for vertex_id in vertices:
        tables = []
        for node in stream:
            if vertex_of.get(str(node.get("id"))) == vertex_id and str(node.get("operator", "")).startswith("Source:"):
                tables.append(_source_table(node))
        if not tables:
            continue
        read, arrived = metric(vertex_id, "read-records"), network_in(vertex_id)
        rows = read - arrived if read is not None and arrived is not None and read >= arrived else None
        for table in tables:
            scans.setdefault(table, []).append(rows if len(tables) == 1 else None)
            if len(tables) > 1:
                notes[table] = NOT_COUNTED_SHARED
    sources = [
        TableCount(
            table=table,
            rows=None if None in counts else sum(c for c in counts if c is not None),
            scans=len(counts),
            note=notes.get(table) if None in counts else None,
        )
        for table, counts in sorted(scans.items())
    ]
    sinks = []
    for node in sorted(stream, key=lambda n: int(n["id"]) if str(n.get("id", "")).isdigit() else 0):
        operator = str(node.get("operator", ""))
        named = _NAMED_SINK.match(operator)
        if not (operator.startswith("Sink:") or named):
            continue
        vertex_id = vertex_of[str(node.get("id"))]
        heads_vertex = all(vertex_of.get(str(edge.get("id"))) != vertex_id for edge in _inputs(node))
        alone = all(vertex_of.get(str(n.get("id"))) != vertex_id or n is node for n in stream)
        rows = metric(vertex_id, "read-records") if heads_vertex and alone else None
        sinks.append(
            TableCount(
                table=(named.group("writer") or named.group("legacy")) if named else operator,
                rows=rows,
                note=None if rows is not None else NOT_COUNTED_CHAINED,
            )
        )
    return sources, sinks


ROWS_WRITTEN_ACCUMULATOR = "flinkbatch.rows-written."  # the runner's: flinkbatch.rows-written.<n>.<table>


def with_rows_written(summary: dict[str, Any], accumulators: dict[str, Any]) -> dict[str, Any]:
    """Rows written per sink from the runner's counters (``GET /jobs/<id>/accumulators``), in INSERT order.

    The runner puts a chained pass-through counter in front of every sink; unlike per-operator metrics,
    accumulators outlive the job, so these are exact. Without them (an older runner jar) the summary
    keeps what the stream graph could tell.
    """
    counted: list[tuple[int, str, int]] = []
    for entry in accumulators.get("user-task-accumulators") or []:
        name = str(entry.get("name", ""))
        if not name.startswith(ROWS_WRITTEN_ACCUMULATOR):
            continue
        number, _, table = name[len(ROWS_WRITTEN_ACCUMULATOR) :].partition(".")
        try:
            counted.append((int(number), table, int(str(entry.get("value")))))
        except ValueError:
            continue
    if not counted:
        return summary
    sinks = [TableCount(table=table, rows=rows).model_dump() for _, table, rows in sorted(counted)]
    return {**summary, "sinks": sinks, "records_written": sum(rows for _, _, rows in counted)}


def complete_summary(
    summary: dict[str, Any], sink_tables: list[str], accumulators: dict[str, Any] | None
) -> dict[str, Any]:
    """The trigger's summary with the sinks named after the INSERT targets and the runner's rows-written
    counters applied (when the target could read them)."""
    summary = with_sink_tables(summary, sink_tables)
    return with_rows_written(summary, accumulators) if accumulators is not None else summary


def with_sink_tables(summary: dict[str, Any], tables: list[str]) -> dict[str, Any]:
    """Name the sinks Flink calls ``Sink: Filesystem`` after the script's INSERT targets, in statement order
    (the planner translates the INSERTs, and numbers their operators, in that order)."""
    sinks = summary.get("sinks") or []
    if len(sinks) != len(tables) or not all(str(sink.get("table", "")).startswith("Sink:") for sink in sinks):
        return summary  # named sinks are numbered later than unnamed ones: only an all-unnamed set is in order
    return {**summary, "sinks": [{**sink, "table": table} for sink, table in zip(sinks, tables, strict=True)]}


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
    sources, sinks = table_counts(details)
    source_counts = [c.rows for c in sources]
    sink_counts = [c.rows for c in sinks]
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
        records_written=sum(c for c in sink_counts if c is not None) if sinks and None not in sink_counts else None,
        max_parallelism=max((v.parallelism for v in vertices if v.parallelism), default=None),
        shuffle_bytes=sum(v.bytes_out or 0 for v in vertices) if vertices else None,
        vertices=vertices,
        sources=sources,
        sinks=sinks,
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
