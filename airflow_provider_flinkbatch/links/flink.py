"""Extra links on the task page: the job in the Flink web UI and in the HistoryServer.

Airflow 3 links are XCom-backed: the operator pushes ``flink_job`` (job id, base URLs, state)
before it defers and again when it finishes, and these links turn that into page URLs.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator, BaseOperatorLink
from airflow.sdk.types import TaskInstanceKey

from airflow_provider_flinkbatch.links.urls import flink_job_id, flink_ui_job_url, history_server_job_url
from airflow_provider_flinkbatch.targets.base import JobHandle, Target

XCOM_KEY = "flink_job"


def _job_info(ti_key: TaskInstanceKey) -> dict[str, Any] | None:
    # Airflow's XCom backend: loaded when the UI resolves a link, not when a DAG file is parsed.
    from airflow.providers.common.compat.sdk import XCom

    value = XCom.get_value(ti_key=ti_key, key=XCOM_KEY)
    return value if isinstance(value, dict) and value.get("job_id") else None


class FlinkJobLink(BaseOperatorLink):
    """The job's page in the Flink web UI: the running route until the task saw the job end, then the completed one."""

    name = "Flink Job"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        info = _job_info(ti_key)
        if not info or not info.get("web_ui_url"):
            return ""
        job_id = flink_job_id(info, info["job_id"])
        return flink_ui_job_url(info["web_ui_url"], job_id, finished=bool(info.get("finished")))


class FlinkHistoryServerLink(BaseOperatorLink):
    """The job's page in the Flink HistoryServer (present once the job is archived)."""

    name = "Flink HistoryServer"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        info = _job_info(ti_key)
        if not info or not info.get("history_server_url"):
            return ""
        return history_server_job_url(info["history_server_url"], flink_job_id(info, info["job_id"]))


def job_info(target: Target, handle: JobHandle, *, finished: bool) -> dict[str, Any]:
    """The ``flink_job`` XCom the links read: the target's base URLs, the job id and where it runs.

    Pushed before deferring too, so the links work while the job runs. ``conn_id`` tells the UI plugin's
    view which connection's JobManager, HistoryServer and archives to ask about the job.
    """
    info = {
        **target.link_info(handle),
        "job_id": handle.job_id,
        "target": target.kind,
        "conn_id": handle.conn_id,
        "finished": finished,
    }
    if handle.ref:
        info["ref"] = handle.ref
    return info


def stored_job_id(context: Any, external_id_key: str, task_id: str) -> str | None:
    """The job id a try left behind: the task state store (``ResumableJobMixin``), else the ``flink_job`` XCom."""
    store = context.get("task_state_store")
    job_id = store.get(external_id_key) if store is not None else None
    if not job_id:
        info = context["ti"].xcom_pull(task_ids=task_id, key=XCOM_KEY)
        job_id = info.get("job_id") if isinstance(info, dict) else None
    return str(job_id) if job_id else None
