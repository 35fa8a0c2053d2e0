"""FlinkBatchPlugin: registers the "Flink job" views (an iframe tab on the task instance and DAG run pages)
and the listener that cancels the Flink job of a deferred task a user marks (:mod:`.marked`).

Airflow imports this module wherever it loads plugins (scheduler, dag-processor, workers, api-server),
so it stays thin: the FastAPI app behind the views is built by :class:`LazyApp` on the first request,
in the api-server only; nothing here imports FastAPI, the provider's hooks or Airflow's models.

Registered through the ``airflow.plugins`` entry point (``pyproject.toml``): Airflow loads entry-point
plugins always, provider-info ``plugins`` only with ``[core] lazy_discover_providers = False``, and the
same plugin registered both ways would be reported as an import error ("already registered").
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_flinkbatch.plugins import marked

#: Where the api-server mounts the app (not one of Airflow's reserved prefixes).
URL_PREFIX = "/flinkbatch"
VIEW_NAME = "Flink job"

# The UI fills {DAG_ID}, {RUN_ID}, {TASK_ID} and {MAP_INDEX} (URL-encoded) for non-"nav" destinations.
TASK_VIEW = {
    "name": VIEW_NAME,
    "href": f"{URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}/tasks/{{TASK_ID}}?map_index={{MAP_INDEX}}",
    "destination": "task_instance",
    "url_route": "flink-job",
}
RUN_VIEW = {
    "name": "Flink jobs",
    "href": f"{URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}",
    "destination": "dag_run",
    "url_route": "flink-jobs",
}


class LazyApp:
    """An ASGI app that builds the real FastAPI app (:func:`.app.create_app`) on its first call."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from airflow_provider_flinkbatch.plugins.app import create_app  # FastAPI + hooks: api-server only

            self._app = create_app()
        await self._app(scope, receive, send)


class FlinkBatchPlugin(AirflowPlugin):
    """The Flink job of a task instance (and the Flink tasks of a DAG run) inside the Airflow UI."""

    name = "flinkbatch"
    fastapi_apps = [{"app": LazyApp(), "url_prefix": URL_PREFIX, "name": "Flink batch job views"}]
    external_views = [TASK_VIEW, RUN_VIEW]
    # mark success/failed of a deferred task cancels its Flink job even if no triggerer ran its trigger yet
    listeners = [marked]
