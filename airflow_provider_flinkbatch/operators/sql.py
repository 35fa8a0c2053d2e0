"""FlinkBatchSqlOperator: run a Flink SQL script as one Flink batch job and wait for it.

Thin by design: split the SQL, build the job request, hand it to a target, then wait either in the
triggerer (deferrable) or in the worker. Both paths end in :meth:`_finish`, which reads the
summary, or on failure the root cause, through the same REST client code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.configuration import conf

from airflow_provider_flinkbatch.links.flink import XCOM_KEY, FlinkHistoryServerLink, FlinkJobLink
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flinkbatch.hooks.flink import FlinkRestHook
    from airflow_provider_flinkbatch.targets.base import JobHandle
    from airflow_provider_flinkbatch.targets.session import SessionTarget


class FlinkBatchSqlOperator(BaseOperator):
    """Submit Flink SQL (inline or a templated ``.sql`` file) as one Flink batch job.

    :param sql: the script; several statements are allowed (DDL, ``SET``, several INSERTs, which run
        as one statement set = one job). Ends in ``.sql`` -> read from the DAG folder and templated.
    :param flink_conn_id: connection of type ``flink_batch``.
    :param flink_config: Flink configuration for this job (``{"parallelism.default": 4}``), sent
        with the submission; ``SET`` statements in the script apply on top.
    :param job_name: Flink job name (``pipeline.name``); defaults to ``<dag_id>.<task_id>``.
    :param deferrable: wait in the triggerer instead of holding a worker slot
        (default: Airflow's ``[operators] default_deferrable``).
    :param poll_interval: seconds between status polls.
    :param transient_error_budget: seconds the JobManager may stay unreachable while waiting.
    :param cancel_on_kill: cancel the Flink job when the task is killed.
    :return: (XCom) the job summary: id, name, state, times, vertices, records/bytes written.
    """

    template_fields: Sequence[str] = ("sql", "job_name", "flink_config")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "flink_config": "json"}
    ui_color = "#e6f1f2"
    operator_extra_links = (FlinkJobLink(), FlinkHistoryServerLink())

    def __init__(
        self,
        *,
        sql: str,
        flink_conn_id: str = DEFAULT_CONN_ID,
        flink_config: dict[str, Any] | None = None,
        job_name: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 5.0,
        transient_error_budget: float = 180.0,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sql = sql
        self.flink_conn_id = flink_conn_id
        self.flink_config = flink_config or {}
        self.job_name = job_name
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.transient_error_budget = transient_error_budget
        self.cancel_on_kill = cancel_on_kill
        self.job_id: str | None = None

    # ------------------------------------------------------------------ wiring
    def _hook(self) -> FlinkRestHook:
        from airflow_provider_flinkbatch.hooks.flink import FlinkRestHook
        from airflow_provider_flinkbatch.rest.client import RetryPolicy

        return FlinkRestHook(self.flink_conn_id, RetryPolicy(budget=self.transient_error_budget))

    def _target(self) -> SessionTarget:
        from airflow_provider_flinkbatch.targets.session import SessionTarget

        hook = self._hook()
        return SessionTarget(hook.client, self.flink_conn_id)

    def _handle(self, job_id: str) -> JobHandle:
        from airflow_provider_flinkbatch.targets.base import JobHandle

        return JobHandle(target="session", conn_id=self.flink_conn_id, job_id=job_id)

    # ------------------------------------------------------------------ execute
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowException, AirflowFailException

        from airflow_provider_flinkbatch.identity import fingerprint, job_id_for, normalize_flink_config
        from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
        from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements
        from airflow_provider_flinkbatch.targets.base import JobRequest, SubmissionRejected

        try:
            statements = split_statements(self.sql)
            flink_config = normalize_flink_config(self.flink_config)
        except (SqlScriptError, ValueError) as err:
            raise AirflowFailException(f"{self.task_id}: invalid job definition: {err}") from err
        ti = context["ti"]
        job_id = job_id_for(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            map_index=ti.map_index if ti.map_index is not None else -1,
            try_number=ti.try_number,
            fingerprint=fingerprint(statements, flink_config),
        )
        request = JobRequest(
            statements=statements,
            flink_config=flink_config,
            job_name=self.job_name or f"{ti.dag_id}.{ti.task_id}",
            job_id=job_id,
        )
        try:
            target = self._target()
            handle = target.submit(request)
        except FlinkConnectionError as err:
            raise AirflowFailException(str(err)) from err
        except SubmissionRejected as err:
            if err.sql_error:
                raise AirflowFailException(f"Flink rejected the SQL, nothing was submitted: {err}") from err
            raise AirflowException(f"Flink refused the job: {err}") from err
        self.job_id = handle.job_id
        settings = target.client.settings
        ti.xcom_push(
            key=XCOM_KEY,
            value={
                "job_id": handle.job_id,
                "web_ui_url": settings.ui_url,
                "history_server_url": settings.history_server_url,
                "finished": False,
            },
        )
        self.log.info(
            "Submitted Flink job %s (%s) with %d statement(s) to %s",
            handle.job_id,
            request.job_name,
            len(statements),
            settings.rest_url,
        )
        if self.deferrable:
            from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

            self.defer(
                trigger=FlinkJobTrigger(
                    job_id=handle.job_id,
                    flink_conn_id=self.flink_conn_id,
                    poll_interval=self.poll_interval,
                    transient_error_budget=self.transient_error_budget,
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
            )
        return self._finish(context, target, handle, self._wait(target, handle))

    def _wait(self, target: SessionTarget, handle: JobHandle) -> dict[str, Any]:
        from airflow_provider_flinkbatch.jobs import is_terminal, summarize_job

        while True:
            details = target.job_details(handle)
            if is_terminal(str(details["state"])):
                return summarize_job(details).model_dump()
            time.sleep(self.poll_interval)

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired."""
        from airflow.sdk.exceptions import AirflowException

        self.job_id = event["job_id"]
        if event.get("status") != "terminal":
            raise AirflowException(f"Lost track of Flink job {event['job_id']}: {event.get('message')}")
        target = self._target()
        return self._finish(context, target, self._handle(event["job_id"]), event["summary"])

    def _finish(
        self, context: Context, target: SessionTarget, handle: JobHandle, summary: dict[str, Any]
    ) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowException

        from airflow_provider_flinkbatch.jobs import SUCCESS_STATE, explain_failure

        info = {
            "job_id": handle.job_id,
            "web_ui_url": target.client.settings.ui_url,
            "history_server_url": target.client.settings.history_server_url,
            "finished": True,
            "state": summary["state"],
        }
        context["ti"].xcom_push(key=XCOM_KEY, value=info)
        state = summary["state"]
        if state == SUCCESS_STATE:
            written = summary.get("records_written")
            self.log.info(
                "Flink job %s FINISHED in %.1fs: %d/%d vertices finished, %s records read, %s",
                handle.job_id,
                (summary.get("duration_ms") or 0) / 1000,
                summary.get("vertices_finished", 0),
                summary.get("vertices_total", 0),
                summary.get("records_read"),
                f"{written} records written" if written is not None else "records written not reported by Flink",
            )
            return summary
        exceptions = None
        try:
            exceptions = target.job_exceptions(handle)
        except Exception as err:  # the failure itself matters more than its details
            self.log.warning("Could not read exceptions of Flink job %s: %s", handle.job_id, err)
        reason = explain_failure(exceptions)
        self.log.error("Flink job %s ended %s. Root cause:\n%s", handle.job_id, state, reason)
        raise AirflowException(f"Flink job {handle.job_id} ended {state}: {reason}")

    def on_kill(self) -> None:
        if not (self.cancel_on_kill and self.job_id):
            return
        try:
            self._target().cancel(self._handle(self.job_id))
            self.log.info("Cancelled Flink job %s", self.job_id)
        except Exception as err:
            self.log.error("Could not cancel Flink job %s: %s", self.job_id, err)
