"""The FastAPI app behind the "Flink job" views, mounted by the api-server under ``/flinkbatch``.

Every route depends on Airflow's own authorization (``requires_access_dag`` for the DAG's task
instances): an anonymous request gets 401, a user who may not read the DAG 403, before anything is read.
The HTML pages are rendered on the server (the UI shows them in an iframe tab); ``/api/...`` answers the
same facts as JSON. Routes are plain ``def``: Flink calls block, FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from airflow_provider_flinkbatch.plugins.facts import FlinkJobView, TaskInstanceRef, job_view
from airflow_provider_flinkbatch.plugins.metadata import RunTaskRow, run_flink_tasks, task_instance, task_xcoms
from airflow_provider_flinkbatch.plugins.render import render_run, render_task

READ_TASK_INSTANCES = [Depends(requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE))]
TASK_PATH = "/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"
RUN_PATH = "/dags/{dag_id}/runs/{run_id}"


def map_index_of(value: str | None) -> int:
    """``?map_index=``: the UI leaves ``{MAP_INDEX}`` unfilled (or sends -1) for an unmapped task."""
    try:
        return int(value) if value not in (None, "") else -1
    except ValueError:
        return -1


MapIndex = Annotated[str | None, Query()]


def _task(session: Any, dag_id: str, run_id: str, task_id: str, map_index: str | None) -> TaskInstanceRef:
    ref = task_instance(session, dag_id, run_id, task_id, map_index_of(map_index))
    if ref is None:
        raise HTTPException(404, f"no task instance {dag_id}/{run_id}/{task_id} (map_index={map_index})")
    return ref


def create_app() -> FastAPI:
    app = FastAPI(title="Flink batch job views", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/api" + TASK_PATH, dependencies=READ_TASK_INSTANCES)
    def task_job(
        dag_id: str, run_id: str, task_id: str, session: SessionDep, map_index: MapIndex = None
    ) -> FlinkJobView:
        ref = _task(session, dag_id, run_id, task_id, map_index)
        return job_view(ref, task_xcoms(session, ref))

    @app.get(TASK_PATH, dependencies=READ_TASK_INSTANCES, response_class=HTMLResponse)
    def task_page(dag_id: str, run_id: str, task_id: str, session: SessionDep, map_index: MapIndex = None) -> str:
        ref = _task(session, dag_id, run_id, task_id, map_index)
        return render_task(job_view(ref, task_xcoms(session, ref)))

    @app.get("/api" + RUN_PATH, dependencies=READ_TASK_INSTANCES)
    def run_jobs(dag_id: str, run_id: str, session: SessionDep) -> list[RunTaskRow]:
        return run_flink_tasks(session, dag_id, run_id)

    @app.get(RUN_PATH, dependencies=READ_TASK_INSTANCES, response_class=HTMLResponse)
    def run_page(dag_id: str, run_id: str, session: SessionDep) -> str:
        return render_run(dag_id, run_id, run_flink_tasks(session, dag_id, run_id))

    return app
