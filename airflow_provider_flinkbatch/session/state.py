"""JobState: the ONE place that reads a Flink job state (``/jobs/<id>``, ``/jobs/overview``, HistoryServer or
archive JSON) as running / succeeded / failed / cancelled, and words it for the user.

Flink's ``JobStatus`` values: INITIALIZING, CREATED, RUNNING, FAILING, FAILED, CANCELLING, CANCELED,
FINISHED, RESTARTING, SUSPENDED, RECONCILING. FINISHED, FAILED and CANCELED are globally terminal;
SUSPENDED is terminal for this JobManager (the job will not go on here), so a wait ends on it too and
reports it as a failure. Every target, trigger, sensor and the operator compare states through this
type, and the YARN and Kubernetes backends use it for the Flink job behind their proxies/JobManagers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SUCCEEDED = "FINISHED"
CANCELLED = "CANCELED"
#: States after which the job does not run on (on this JobManager) any more.
TERMINAL = frozenset({SUCCEEDED, "FAILED", CANCELLED, "SUSPENDED"})


@dataclass(frozen=True)
class JobState:
    """A Flink job state as an outcome. Build it with :meth:`of` (a state string) or :meth:`from_json`."""

    state: str
    job_id: str | None = None

    @classmethod
    def of(cls, state: Any, job_id: str | None = None) -> JobState:
        return cls(str(state or "").upper() or "UNKNOWN", job_id)

    @classmethod
    def from_json(cls, job: dict[str, Any]) -> JobState:
        """From ``/jobs/<id>`` or one ``/jobs/overview`` entry (the same keys in HistoryServer JSON)."""
        return cls.of(job.get("state"), str(job["jid"]) if job.get("jid") else None)

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    @property
    def running(self) -> bool:
        return not self.terminal

    @property
    def succeeded(self) -> bool:
        return self.state == SUCCEEDED

    @property
    def cancelled(self) -> bool:
        return self.state == CANCELLED

    @property
    def failed(self) -> bool:
        """Ended without success and not by a cancel (FAILED, SUSPENDED)."""
        return self.terminal and not (self.succeeded or self.cancelled)

    @property
    def message(self) -> str:
        """The user's line: ``Flink job <id> is RUNNING`` / ``... FINISHED`` / ``... was CANCELED``."""
        job = f"Flink job {self.job_id}" if self.job_id else "Flink job"
        if not self.terminal:
            return f"{job} is {self.state}"
        return f"{job} was {self.state}" if self.cancelled else f"{job} {self.state}"


def is_terminal(state: Any) -> bool:
    """Shorthand for ``JobState.of(state).terminal``."""
    return JobState.of(state).terminal


def is_success(state: Any) -> bool:
    """Shorthand for ``JobState.of(state).succeeded``."""
    return JobState.of(state).succeeded
