"""URLs of a job's pages in the Flink web UI and the HistoryServer (Flink 2.x dashboard routes).

The dashboard (``flink-runtime-web``, hash routing) has ``#/job/running/<jid>/...`` and
``#/job/completed/<jid>/...``; the running route's guard sends a job that has ended on to the completed one,
the completed route does not send a running job back, and the HistoryServer only has completed jobs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_flinkbatch.rest.calls import check_job_id


def flink_ui_job_url(web_ui_url: str, job_id: str, *, finished: bool) -> str:
    """The job's overview in the dashboard: the running route until the job is known to have ended."""
    kind = "completed" if finished else "running"
    return f"{web_ui_url.rstrip('/')}/#/job/{kind}/{check_job_id(job_id)}/overview"


def history_server_job_url(history_server_url: str, job_id: str) -> str:
    return f"{history_server_url.rstrip('/')}/#/job/completed/{check_job_id(job_id)}/overview"


def flink_job_id(info: Mapping[str, Any], job_id: str) -> str:
    """The id Flink's pages know the job by: a target's ``flink_job_id`` (a FlinkSessionJob runs under the
    operator's id), else the provider's ``job_id``."""
    return str(info.get("flink_job_id") or job_id)


def job_links(info: Mapping[str, Any], job_id: str, *, finished: bool = True) -> dict[str, str]:
    """Label -> URL of a job's pages, from the ``flink_job`` XCom info a target reports (``finished``: whether
    the job is known to have ended, which picks the Flink UI's route)."""
    links = {}
    flink_id = flink_job_id(info, job_id)
    if info.get("web_ui_url"):
        links["Flink UI"] = flink_ui_job_url(info["web_ui_url"], flink_id, finished=finished)
    if info.get("history_server_url"):
        links["HistoryServer"] = history_server_job_url(info["history_server_url"], flink_id)
    return links
