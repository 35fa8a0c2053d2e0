"""Why did a Flink batch job fail, where, and can a retry help? One typed answer from Flink's own JSON.

The answer (:class:`Diagnosis`) is built from ``/jobs/<id>`` and ``/jobs/<id>/exceptions`` — the
same JSON whether it comes from the JobManager, the HistoryServer or a raw archive file — and
classified by :data:`RULES`, the one table that decides what is retryable (SQL errors of a refused
submission included); a DAG's ``retry_on`` is applied in :func:`retryable` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel

from airflow_provider_flinkbatch.jobs import root_cause_from_exceptions
from airflow_provider_flinkbatch.session.state import JobState

Category = Literal[
    "sql_error",
    "missing_source",
    "schema_mismatch",
    "user_data_error",
    "input_missing",
    "permission_denied",
    "out_of_memory",
    "shuffle_service_unavailable",
    "resource_lost",
    "io_error",
    "cancelled",
    "finished",
    "unknown",
]


@dataclass(frozen=True)
class Rule:
    """A category, whether a retry can help, the advice a user gets, and the exception patterns."""

    category: Category
    retryable: bool
    advice: str
    patterns: tuple[str, ...]
    #: ``(pattern, advice template)``: when the pattern finds the thing in the exception chain, the
    #: advice names it (``{group}`` fields are filled from the match)
    detail: tuple[str, str] | None = None

    def matches(self, text: str) -> bool:
        return any(re.search(pattern, text) for pattern in self.patterns)

    def advice_for(self, text: str) -> str:
        if self.detail is not None:
            match = re.search(self.detail[0], text)
            if match:
                return self.detail[1].format(**match.groupdict())
        return self.advice


#: First match wins, tried against the root cause (class + message) first, then the whole exception chain.
#: The advice says what to fix; whether *this* task is retried is added by :meth:`Diagnosis.retry_plan`.
RULES: tuple[Rule, ...] = (
    Rule(
        "sql_error",
        False,
        "the SQL is invalid: fix the statement",
        (
            r"SqlValidatorException",
            r"SqlParseException",
            r"\bValidationException",
            r"SQL (validation|parse) failed",
            r"Could not find any factory",
            r"no INSERT statement",
            r"FlinkBatchSqlRunner: ",  # the SQL runner's own checks (no statements, unreadable script)
            r"\bStatement \d+ of \d+ \(",  # the runner names the statement the planner refused
        ),
    ),
    Rule(
        "missing_source",
        False,
        "a table's connector options point at something that does not exist: create it or fix the options",
        (r"UnknownTopicOrPartitionException", r"Failed to get metadata for topics"),
        detail=(
            r"Failed to get metadata for topics \[(?P<topics>[^\]]*)\]",
            "Kafka topic '{topics}' does not exist on the brokers of 'properties.bootstrap.servers': create the "
            "topic or fix the table's 'topic' option (retrying cannot help)",
        ),
    ),
    Rule(
        "out_of_memory",
        False,
        "raise TaskManager memory (taskmanager.memory.*) or lower the work per slot; "
        "set retry_on={'out_of_memory': True} to retry",
        (
            r"OutOfMemoryError",
            r"Java heap space",
            r"Direct buffer memory",
            r"Metaspace",
            r"Insufficient number of network buffers",
            r"MemoryAllocationException",
        ),
    ),
    Rule(
        # Flink 2.3 csv: "Row length mismatch. 3 fields expected but was 2." (a missing column, another
        # delimiter); json: "JsonParseException: Fail to deserialize at field: id." (a value of another type).
        "schema_mismatch",
        False,
        "the files do not match the table: compare the CREATE TABLE columns and types and the format options "
        "(e.g. 'csv.field-delimiter') with the files; '<format>.ignore-parse-errors' = 'true' skips bad rows",
        (
            r"Row length mismatch",
            r"JsonParseException: Fail(ed)? to deserialize at field",
            r"Fail(ed)? to deserialize at field",
        ),
    ),
    Rule(
        "user_data_error",
        False,
        "the data does not fit the query: fix the input data or the CAST/parsing in the SQL",
        (
            r"NumberFormatException",
            r"DateTimeParseException",
            r"ArithmeticException",
            r"NullPointerException",
            r"ClassCastException",
            r"Invalid character found",
            r"Failed to deserialize",
            r"JsonParseException",
            r"MismatchedInputException",
            r"CsvReadException",
            r"Column '.*' is NOT NULL",
        ),
    ),
    Rule(
        "shuffle_service_unavailable",
        False,
        "the remote shuffle service (Celeborn, preset 'celeborn') cannot be used: check celeborn.master.endpoints, "
        "that the master and workers run, and that the client jar is in Flink's lib/; "
        "set retry_on={'shuffle_service_unavailable': True} to retry",
        (
            # Celeborn's MasterClient once its RPC retries to every master failed
            r"After trying all the available Master Addresses",
            r"ClassNotFoundException: org\.apache\.celeborn",
            r"org\.apache\.celeborn\.\S*(Exception|Error)",
        ),
    ),
    Rule(
        # Before input_missing: Java reports an unreadable file as "FileNotFoundException: <path> (Permission denied)".
        "permission_denied",
        False,
        "Flink's user may not read (or write) the path: grant it access (file mode, bucket policy, credentials)",
        (
            r"Permission denied",
            r"AccessDeniedException",
            r"\bAccess Denied\b",
        ),
    ),
    Rule(
        # Flink 2.3: "FileNotFoundException: File <path> does not exist or the user running Flink ('<user>') has
        # insufficient permissions to access it." (a global failure while enumerating the splits).
        "input_missing",
        False,
        "an input path does not exist (or Flink's user may not list it): check the table's 'path' and that the "
        "task writing it ran first; set retry_on={'input_missing': True} to retry while waiting for late input",
        (
            r"FileNotFoundException",
            r"NoSuchFileException",
            r"No such file or directory",
        ),
    ),
    Rule(
        "resource_lost",
        True,
        "the cluster lost a TaskManager or could not get resources: a retry usually succeeds",
        (
            r"NoResourceAvailableException",
            r"is no longer reachable",
            r"Heartbeat of TaskManager",
            r"TaskManager .*(lost|disconnected|released)",
            r"Connection unexpectedly closed by remote task manager",
            r"PartitionNotFoundException",
            r"RemoteTransportException",
            r"LocalTransportException",
            r"Slot request bulk is not fulfillable",
            r"TimeoutException",
            r"TaskExecutor .*shutting down",
        ),
    ),
    Rule(
        "io_error",
        True,
        "a transient failure reading or writing an external system (connection reset, throttling, storage outage)",
        (
            r"Connection reset",
            r"Broken pipe",
            r"SocketException",
            r"SocketTimeoutException",
            r"ConnectException",
            r"UnknownHostException",
            r"Connection refused",
            r"SlowDown",
            r"[Tt]hrottl",
            r"Too Many Requests",
            r"Service Unavailable",
            r"RequestTimeout",
            r"S3Exception",
            r"AmazonServiceException",
            r"IOException",
        ),
    ),
)
_CANCELLED = Rule("cancelled", False, "the job was cancelled (by a user, a timeout or Airflow)", ())
_FINISHED = Rule("finished", False, "the job did not fail: nothing to diagnose or retry", ())
_UNKNOWN = Rule("unknown", True, "no known pattern: read the root cause", ())
#: Categories where a retry_on override can make sense (not: a typo in the SQL, a cancel, a finished job).
_NO_OVERRIDE_HINT = frozenset({"sql_error", "cancelled", "finished"})


def retryable(rule: Rule, retry_on: dict[str, bool] | None) -> bool:
    """The one place a DAG's ``retry_on`` overrides a rule's default."""
    return (retry_on or {}).get(rule.category, rule.retryable)


def check_retry_on(retry_on: dict[str, bool] | None) -> dict[str, bool]:
    """Unknown categories are a DAG bug: say so at parse time, not after a failure."""
    known = set(get_args(Category))
    unknown = set(retry_on or {}) - known
    if unknown:
        raise ValueError(f"retry_on: unknown failure categories {sorted(unknown)}; known: {sorted(known)}")
    return dict(retry_on or {})


def is_sql_error(errors: list[str]) -> bool:
    """True when a refused submission's error text says the SQL itself is wrong (retrying cannot help)."""
    return RULES[0].matches("\n".join(errors))


def classify(state: str | None, root_cause: str, chain: str) -> Rule:
    """The rule for a failure: finished and cancelled jobs first, then the root cause, then anything in the chain."""
    outcome = JobState.of(state)
    if outcome.succeeded:  # failed attempts a restart recovered from are history, not the verdict
        return _FINISHED
    if outcome.cancelled and not root_cause:
        return _CANCELLED
    for text in (root_cause, chain):
        for rule in RULES:
            if text and rule.matches(text):
                return rule
    return _CANCELLED if outcome.cancelled else _UNKNOWN


class Diagnosis(BaseModel):
    """What broke, where, and whether a retry can help (JSON-serializable: goes to XCom and the CLI)."""

    job_id: str
    source: str
    state: str | None = None
    job_name: str | None = None
    duration_ms: int | None = None
    exception_class: str | None = None
    message: str | None = None
    frames: list[str] = []
    vertex: str | None = None
    subtask: str | None = None
    task_manager: str | None = None
    attempts: int = 0
    category: Category = "unknown"
    retryable: bool = True
    advice: str = ""
    sources_tried: list[str] = []

    def headline(self) -> str:
        cause = f"{self.exception_class}: {self.message}" if self.exception_class else "no exception recorded"
        return f"Flink job {self.job_id} {self.state or 'failed'} [{self.category}]: {cause}"

    def retry_plan(self, try_number: int, max_tries: int) -> tuple[bool, str]:
        """Will Airflow retry this task, and the sentence that says so (true for this try, not in general).

        Airflow retries a failed try when ``max_tries != 0 and try_number <= max_tries``
        (``max_tries`` starts as the task's ``retries``).
        """
        if not self.retryable:
            hint = "" if self.category in _NO_OVERRIDE_HINT else f"; retry_on={{'{self.category}': True}} retries it"
            return False, f"no, this failure is not retried{hint}"
        if max_tries == 0:
            return False, "no: the task has retries=0"
        if try_number > max_tries:
            return False, f"no: this was the last try ({try_number} of {max_tries + 1})"
        return True, f"yes: Airflow retries the task (this was try {try_number} of {max_tries + 1})"

    def describe(self, links: dict[str, str] | None = None, *, retry: str | None = None) -> str:
        """The short block the task log shows. ``retry``: the task's :meth:`retry_plan` sentence (the CLI,
        knowing no task, says whether the failure is retryable in general)."""
        took = f" after {self.duration_ms / 1000:.1f}s" if self.duration_ms else ""
        if self.category == "finished":
            rows = [("category", f"finished - {self.advice}")]
        elif retry is not None:
            rows = [("category", f"{self.category} - {self.advice}"), ("retried", retry)]
        else:
            rows = [("category", f"{self.category} (retryable: {'yes' if self.retryable else 'no'}) - {self.advice}")]
        if self.category != "finished" or self.exception_class:
            rows.append(
                ("root cause", f"{self.exception_class}: {self.message}" if self.exception_class else "none recorded")
            )
        rows += [("", f"at {frame}") for frame in self.frames]
        if self.vertex:
            rows.append(("vertex", self.vertex + (f" (subtask {self.subtask})" if self.subtask else "")))
        if self.task_manager:
            rows.append(("TaskManager", self.task_manager))
        rows.append(("attempts", f"{self.attempts} failure(s) recorded; source: {self.source}"))
        rows += list((links or {}).items())
        lines = [f"Flink job {self.job_id} ({self.job_name or 'unnamed'}) ended {self.state}{took}"]
        lines += [f"  {label:<13}{': ' if label else '  '}{value}" for label, value in rows]
        return "\n".join(lines)


_TASK_NAME = re.compile(r"^(?P<vertex>.*?) \((?P<subtask>\d+/\d+)\)(?: - execution #\d+)?$")


def diagnose(
    job_id: str,
    details: dict[str, Any] | None,
    exceptions: dict[str, Any] | None,
    *,
    source: str,
    retry_on: dict[str, bool] | None = None,
) -> Diagnosis:
    """Build the diagnosis from one source's ``/jobs/<id>`` and ``/jobs/<id>/exceptions`` JSON."""
    details = details or {}
    entries = ((exceptions or {}).get("exceptionHistory") or {}).get("entries") or []
    cause = root_cause_from_exceptions(exceptions) if exceptions else None
    state = details.get("state")
    vertex = subtask = None
    if cause and cause.task:
        match = _TASK_NAME.match(cause.task)
        vertex, subtask = (match.group("vertex"), match.group("subtask")) if match else (cause.task, None)
    elif details.get("vertices"):  # a global failure (e.g. a missing input path) names no task: use the vertex
        failed = [v for v in details["vertices"] if v.get("status") in ("FAILED", "CANCELED")]
        vertex = failed[0].get("name") if failed else None
    chain = "\n".join(str(entry.get("stacktrace") or "") for entry in entries[:1])
    root = f"{cause.exception_class}: {cause.message}" if cause else ""
    rule = classify(state, root, chain)
    return Diagnosis(
        job_id=job_id,
        source=source,
        state=state,
        job_name=details.get("name"),
        duration_ms=details.get("duration") if isinstance(details.get("duration"), int) else None,
        exception_class=cause.exception_class if cause else None,
        message=cause.message if cause else None,
        frames=cause.frames if cause else [],
        vertex=vertex,
        subtask=subtask,
        task_manager=(cause.location or cause.task_manager_id) if cause else None,
        attempts=len(entries),
        category=rule.category,
        retryable=retryable(rule, retry_on),
        advice=rule.advice_for(chain),
    )


def diagnose_unknown(job_id: str, state: str | None, advice: str, retry_on: dict[str, bool] | None) -> Diagnosis:
    """No source knows why the job failed: ``advice`` says what was tried."""
    return Diagnosis(job_id=job_id, source="none", state=state, retryable=retryable(_UNKNOWN, retry_on), advice=advice)


def diagnose_submission(job_id: str, message: str, retry_on: dict[str, bool] | None = None) -> Diagnosis:
    """A job Flink refused at submission (no job exists): classify the error text alone."""
    match = re.search(r"(\w+(?:\.\w+)*(?:Exception|Error)):\s*(.*)", message)
    rule = classify(None, message, message)
    return Diagnosis(
        job_id=job_id,
        source="submission",
        state="REJECTED",
        exception_class=match.group(1) if match else None,
        message=(match.group(2) if match else message)[:2000],
        category=rule.category,
        retryable=retryable(rule, retry_on),
        advice=rule.advice,
    )
