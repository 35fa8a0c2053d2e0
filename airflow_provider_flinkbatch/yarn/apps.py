"""A YARN application in Flink's terms: states, the tags that carry the job identity, synthesized details.

YARN knows the application (``state`` + ``finalStatus``); the operator, reattach rules and summaries
speak Flink job states. This module is the one translation between the two.
"""

from __future__ import annotations

import re
from typing import Any

#: YARN application states after which nothing runs any more.
FINAL_STATES = frozenset({"FINISHED", "FAILED", "KILLED"})
_STARTING = frozenset({"NEW", "NEW_SAVING", "SUBMITTED", "ACCEPTED"})

#: Every application this provider submits carries this tag (handy for ``yarn app -list -appTags``).
PROVIDER_TAG = "flinkbatch"
_IDENTITY = "flinkbatch-id-"
_JOB = "flinkbatch-job-"
_FINGERPRINT = "flinkbatch-fp-"
#: YARN's limits: at most 10 tags per application, 100 ASCII characters each (YARN lower-cases them).
MAX_TAGS = 10
MAX_TAG_LENGTH = 100
_APP_ID = re.compile(r"^application_\d+_\d+$")


def check_app_id(app_id: str) -> str:
    """``application_<cluster timestamp>_<sequence>``; anything else never goes into a URL path."""
    if not isinstance(app_id, str) or not _APP_ID.match(app_id):
        raise ValueError(f"not a YARN application id: {app_id!r} (expected application_<timestamp>_<n>)")
    return app_id


def identity_tag(identity_key: str) -> str:
    return f"{_IDENTITY}{identity_key}".lower()


def job_tag(job_id: str) -> str:
    return f"{_JOB}{job_id}".lower()


def identity_tags(identity_key: str, job_id: str, fingerprint: str) -> list[str]:
    """The tags that let a later try find this job: task instance, exact attempt (job id), definition."""
    return [PROVIDER_TAG, identity_tag(identity_key), job_tag(job_id), f"{_FINGERPRINT}{fingerprint}".lower()]


def _tags(app: dict[str, Any]) -> list[str]:
    raw = app.get("applicationTags") or ""
    return [tag.strip() for tag in (raw.split(",") if isinstance(raw, str) else raw) if tag.strip()]


def _tag_value(app: dict[str, Any], prefix: str) -> str | None:
    for tag in _tags(app):
        if tag.startswith(prefix):
            return tag[len(prefix) :]
    return None


def job_id_of(app: dict[str, Any]) -> str | None:
    return _tag_value(app, _JOB)


def fingerprint_of(app: dict[str, Any]) -> str | None:
    return _tag_value(app, _FINGERPRINT)


def is_final(app: dict[str, Any]) -> bool:
    return str(app.get("state")) in FINAL_STATES


def flink_state(app: dict[str, Any]) -> str:
    """The Flink job state a YARN application stands for (used when Flink itself cannot be asked)."""
    state, final_status = str(app.get("state")), str(app.get("finalStatus"))
    if state in _STARTING:
        return "INITIALIZING"
    if state not in FINAL_STATES:
        return "RUNNING"
    if state == "KILLED" or final_status == "KILLED":
        return "CANCELED"
    if state == "FINISHED" and final_status == "SUCCEEDED":
        return "FINISHED"
    return "FAILED"


def describe(app: dict[str, Any]) -> str:
    """``application_1_0001 FAILED/FAILED: <first line of the diagnostics>`` for logs and failure messages."""
    text = f"YARN application {app.get('id')} {app.get('state')}/{app.get('finalStatus')}"
    lines = str(app.get("diagnostics") or "").strip().splitlines()
    first = lines[0][:500] + (" ..." if len(lines) > 1 or len(lines[0]) > 500 else "") if lines else ""
    return f"{text}: {first}" if first else text


def details_from_app(app: dict[str, Any], job_id: str) -> dict[str, Any]:
    """A ``GET /jobs/<id>``-shaped answer built from YARN alone, for when no Flink source knows the job
    (the JobManager is gone with the application and the HistoryServer has no archive of it)."""
    started = int(app.get("startedTime") or 0)
    finished = int(app.get("finishedTime") or 0)
    return {
        "jid": job_id,
        "name": str(app.get("name") or ""),
        "state": flink_state(app),
        "start-time": started,
        "end-time": finished if finished > 0 else -1,
        "duration": int(app.get("elapsedTime") or max(0, finished - started)),
        "vertices": [],
        "yarn": {key: app.get(key) for key in ("id", "state", "finalStatus", "diagnostics", "trackingUrl")},
    }
