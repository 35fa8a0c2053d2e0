"""What the views read from Airflow's metadata database: the task instance's latest try and its XComs.

Read directly (as Airflow's own XCom API does), inside the api-server's request session; the values are
the ones the operator pushed (``flink_job``, ``return_value``, ``flink_diagnosis``, ``flink_plan``).
"""

from __future__ import annotations

from typing import Any

from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_provider_flinkbatch.failures import DIAGNOSIS_XCOM_KEY
from airflow_provider_flinkbatch.links.flink import XCOM_KEY
from airflow_provider_flinkbatch.plugins.facts import TaskInstanceRef


class RunTaskRow(BaseModel):
    """One Flink task of a DAG run, as the run's list shows it."""

    task_id: str
    map_index: int
    try_number: int
    state: str | None
    job_id: str
    flink_state: str | None = None


def task_instance(session: Session, dag_id: str, run_id: str, task_id: str, map_index: int) -> TaskInstanceRef | None:
    """The task instance (its current row is its latest try), or ``None``."""
    ti = session.scalar(
        select(TaskInstance).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
        )
    )
    if ti is None:
        return None
    state = str(ti.state.value if hasattr(ti.state, "value") else ti.state) if ti.state else None
    return TaskInstanceRef(
        dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index, try_number=ti.try_number, state=state
    )


def task_xcoms(session: Session, ref: TaskInstanceRef) -> dict[str, Any]:
    """Key -> value of the task instance's XComs (Airflow keeps the latest try's)."""
    query = XComModel.get_many(run_id=ref.run_id, task_ids=ref.task_id, dag_ids=ref.dag_id, map_indexes=ref.map_index)
    return {row.key: XComModel.deserialize_value(row) for row in _xcom_rows(session, query)}


def _xcom_rows(session: Session, query: Any) -> list[XComModel]:
    """The rows of an ``XComModel.get_many`` query (typed as 1-tuples; Airflow's own API unwraps them too)."""
    return [row[0] if isinstance(row, tuple) else row for row in session.scalars(query)]


def run_flink_tasks(session: Session, dag_id: str, run_id: str) -> list[RunTaskRow]:
    """The run's task instances that submitted a Flink job, with the job's last known state (no Flink calls)."""
    values: dict[tuple[str, int], dict[str, Any]] = {}
    for row in _xcom_rows(session, XComModel.get_many(run_id=run_id, dag_ids=dag_id)):
        values.setdefault((row.task_id, row.map_index), {})[row.key] = XComModel.deserialize_value(row)
    rows = []
    for (task_id, map_index), xcoms in sorted(values.items()):
        info = xcoms.get(XCOM_KEY)
        if not isinstance(info, dict) or not info.get("job_id"):
            continue
        ref = task_instance(session, dag_id, run_id, task_id, map_index)
        summary, diagnosis = xcoms.get("return_value"), xcoms.get(DIAGNOSIS_XCOM_KEY)
        summary = summary if isinstance(summary, dict) else {}
        diagnosis = diagnosis if isinstance(diagnosis, dict) else {}
        rows.append(
            RunTaskRow(
                task_id=task_id,
                map_index=map_index,
                try_number=ref.try_number if ref else 0,
                state=ref.state if ref else None,
                job_id=str(info["job_id"]),
                flink_state=summary.get("state") or diagnosis.get("state"),
            )
        )
    return rows
