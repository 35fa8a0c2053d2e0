"""URLs of a job's pages in the Flink web UI and the HistoryServer (Flink 2.x dashboard routes)."""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkbatch.rest.calls import check_job_id


def flink_ui_job_url(web_ui_url: str, job_id: str, *, finished: bool) -> str:
    """The dashboard keeps running and completed jobs under different routes (``#/job/<kind>/<id>``)."""
    kind = "completed" if finished else "running"
    return f"{web_ui_url.rstrip('/')}/#/job/{kind}/{check_job_id(job_id)}/overview"


def history_server_job_url(history_server_url: str, job_id: str) -> str:
    return f"{history_server_url.rstrip('/')}/#/job/completed/{check_job_id(job_id)}/overview"


def job_links(info: dict[str, Any], job_id: str) -> dict[str, str]:
    """Label -> URL of a finished job's pages, from the ``flink_job`` XCom info a target reports."""
    links = {}
    if info.get("web_ui_url"):
        links["Flink UI"] = flink_ui_job_url(info["web_ui_url"], job_id, finished=True)
    if info.get("history_server_url"):
        links["HistoryServer"] = history_server_job_url(info["history_server_url"], job_id)
    return links
