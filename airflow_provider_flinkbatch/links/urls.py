"""URLs of a job's pages in the Flink web UI and the HistoryServer (Flink 2.x dashboard routes)."""

from __future__ import annotations

from airflow_provider_flinkbatch.rest.calls import check_job_id


def flink_ui_job_url(web_ui_url: str, job_id: str, *, finished: bool) -> str:
    """The dashboard keeps running and completed jobs under different routes (``#/job/<kind>/<id>``)."""
    kind = "completed" if finished else "running"
    return f"{web_ui_url.rstrip('/')}/#/job/{kind}/{check_job_id(job_id)}/overview"


def history_server_job_url(history_server_url: str, job_id: str) -> str:
    return f"{history_server_url.rstrip('/')}/#/job/completed/{check_job_id(job_id)}/overview"
