"""ApplicationState: the ONE place that reads a YARN application as a Flink job outcome.

YARN knows the application (``state`` + ``finalStatus``, RM REST ``/ws/v1/cluster/apps/{id}``); the
operator, the reattach rules and the summaries speak Flink job states. The target, the trigger and the
diagnosis all go through :class:`ApplicationState`, so they agree on when a job is over and how it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: YARN application states after which nothing runs any more.
FINAL_STATES = frozenset({"FINISHED", "FAILED", "KILLED"})
_STARTING = frozenset({"NEW", "NEW_SAVING", "SUBMITTED", "ACCEPTED"})
#: YARN application states of an application that has not ended (what a waiting trigger polls for).
WAITING_STATES = _STARTING | {"RUNNING"}


@dataclass(frozen=True)
class ApplicationState:
    """One RM answer about an application, in Flink's terms."""

    app_id: str
    state: str
    final_status: str
    diagnostics: str
    started: int
    finished: int

    @classmethod
    def of(cls, app: dict[str, Any]) -> ApplicationState:
        return cls(
            app_id=str(app.get("id") or ""),
            state=str(app.get("state")),
            final_status=str(app.get("finalStatus")),
            diagnostics=str(app.get("diagnostics") or ""),
            started=int(app.get("startedTime") or 0),
            finished=int(app.get("finishedTime") or 0),
        )

    @property
    def final(self) -> bool:
        """Nothing runs any more (FINISHED, FAILED, KILLED)."""
        return self.state in FINAL_STATES

    @property
    def running(self) -> bool:
        """The JobManager is up: Flink's REST API answers through the YARN web proxy."""
        return self.state == "RUNNING"

    @property
    def flink_state(self) -> str:
        """The Flink job state the application stands for (used when Flink itself cannot be asked)."""
        if self.state in _STARTING:
            return "INITIALIZING"
        if not self.final:
            return "RUNNING"
        if self.state == "KILLED" or self.final_status == "KILLED":
            return "CANCELED"
        if self.state == "FINISHED" and self.final_status == "SUCCEEDED":
            return "FINISHED"
        return "FAILED"

    @property
    def message(self) -> str:
        """``YARN application <id> FAILED/FAILED: <first line of the diagnostics>`` for logs and failures."""
        text = f"YARN application {self.app_id} {self.state}/{self.final_status}"
        lines = self.diagnostics.strip().splitlines()
        first = lines[0][:500] + (" ..." if len(lines) > 1 or len(lines[0]) > 500 else "") if lines else ""
        return f"{text}: {first}" if first else text


def details_from_app(app: dict[str, Any], job_id: str) -> dict[str, Any]:
    """A ``GET /jobs/<id>``-shaped answer built from YARN alone, for when no Flink source knows the job
    (the JobManager is gone with the application and the HistoryServer has no archive of it)."""
    observed = ApplicationState.of(app)
    return {
        "jid": job_id,
        "name": str(app.get("name") or ""),
        "state": observed.flink_state,
        "start-time": observed.started,
        "end-time": observed.finished if observed.finished > 0 else -1,
        "duration": int(app.get("elapsedTime") or max(0, observed.finished - observed.started)),
        "vertices": [],
        "yarn": {key: app.get(key) for key in ("id", "state", "finalStatus", "diagnostics", "trackingUrl")},
    }
