"""The YARN application tags that carry a job's identity, and the application id format.

A later try finds its task instance's applications by tag (``find_existing``) instead of submitting twice.
"""

from __future__ import annotations

import re
from typing import Any

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
