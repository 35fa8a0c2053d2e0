"""FlinkBatchSqlOperator: run a Flink SQL script as one Flink batch job and wait for it.

Thin by design: build the request (:mod:`~airflow_provider_flinkbatch.targets.request`), hand it to the
target (:mod:`~airflow_provider_flinkbatch.targets.registry`), let :mod:`~airflow_provider_flinkbatch.reattach`
decide between reattaching and submitting, wait in the triggerer (deferrable) or in the worker, then
finish: the summary on success, the diagnosis on failure. Airflow's ``ResumableJobMixin`` keeps the
job id in the task state store across tries; the identity lookup closes the mixin's gap (a crash
between submit and saving the id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator, Context, ResumableJobMixin
from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_flinkbatch import reattach
from airflow_provider_flinkbatch.diagnosis import check_retry_on
from airflow_provider_flinkbatch.failures import raise_for_failed_job, raise_for_rejected_submission
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.lineage import facets_of_script
from airflow_provider_flinkbatch.links.flink import (
    XCOM_KEY,
    FlinkHistoryServerLink,
    FlinkJobLink,
    job_info,
    stored_job_id,
)
from airflow_provider_flinkbatch.links.urls import job_links
from airflow_provider_flinkbatch.links.yarn import YarnApplicationLink
from airflow_provider_flinkbatch.operators import outlets
from airflow_provider_flinkbatch.plan import check_plan_mode
from airflow_provider_flinkbatch.presets import check_preset_names, session_warning
from airflow_provider_flinkbatch.reported import mark_reported, reported_job
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID, FlinkConnectionError
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import (
    JobHandle,
    JobRequest,
    SubmissionAnswerLost,
    SubmissionRejected,
    Target,
    WaitOptions,
)
from airflow_provider_flinkbatch.targets.finish import cancel_task_jobs, clean_up, finished_summary, wait_in_worker
from airflow_provider_flinkbatch.targets.grace import DEFAULT_DEFER_GRACE, check_defer_grace, watch_before_defer
from airflow_provider_flinkbatch.targets.registry import create_target, validate_target_options
from airflow_provider_flinkbatch.targets.request import JobDefinitionError, SqlFileSizeGuard, build_request
from airflow_provider_flinkbatch.targets.worker_poll import ended_summary

METRICS_XCOM_KEY = "flink_metrics"


class FlinkBatchSqlOperator(SqlFileSizeGuard, ResumableJobMixin, BaseOperator):
    """Submit Flink SQL (inline or a templated ``.sql`` file) as one Flink batch job.

    :param sql: the script; several statements are allowed (DDL, ``SET``, several INSERTs, which run
        as one statement set = one job). Ends in ``.sql`` -> read from the DAG folder and templated.
    :param flink_conn_id: connection of type ``flink_batch``.
    :param flink_config: Flink configuration for this job (``{"parallelism.default": 4}``), sent
        with the submission; ``SET`` statements in the script apply on top.
    :param presets: named configuration presets merged under ``flink_config`` in order, which wins on conflicts
        (``celeborn``, ``adaptive-batch``, ``speculative``, ...; ``flinkbatch presets`` lists them and their keys).
    :param job_name: Flink job name (``pipeline.name``); defaults to ``<dag_id>.<task_id>``.
    :param target: where the job runs: ``"session"`` (a session cluster's REST API, the default),
        ``"kubernetes"`` or ``"yarn"`` (see the target how-tos in ``docs/``).
    :param target_options: the target's settings (validated when the DAG is parsed; see each target's
        options model).
    :param explain: before submitting, plan the job's INSERTs with ``EXPLAIN`` in a local JVM (needs Java and
        the Flink jars on the worker) and log, per source table, the columns read and the filters and
        partitions pushed into the scan; the report goes to XCom ``flink_plan``.
    :param plan_check: with ``explain``: ``"warn"`` logs plan warnings (a wide table read in full for a few
        columns, a partition filter that was not pushed down); ``"fail"`` fails the task on them.
    :param deferrable: wait in the triggerer, not in a worker slot (default: ``[operators] default_deferrable``).
    :param defer_grace: seconds a deferrable task watches its job from the worker first (targets/grace.py; 10).
    :param poll_interval: the longest wait between status polls, in seconds. Polls start every 0.5 s (0.1 s
        from the worker on a session cluster) and slow down to a tenth of the job's age, capped at this.
    :param transient_error_budget: seconds the JobManager may stay unreachable (or answer 5xx / proxy
        error pages) while waiting before the task fails; polls back off with jitter meanwhile.
    :param cancel_on_kill: cancel the Flink job when the task is killed, times out or is marked
        failed/success while deferred.
    :param rerun_finished: always run the SQL again when a try finds its job FINISHED (see docs/identity.md).
    :param retry_on: override whether a failure category is retried, e.g. ``{"out_of_memory": True}`` (see
        docs/diagnosis.md). By default SQL, data, memory and cancellation failures fail without retries; lost
        resources, I/O errors and unknown failures use the task's ``retries``.
    :param sink_assets: which written tables are assets: table -> asset URI (``None``: the URI derived from the
        table's connector options, see assets.py); default: every written data table. A spec's ``sinks:``.
    :param durable: keep the job id in the task state store across tries (``ResumableJobMixin``).
    :return: (XCom) the job summary: id, name, state, times, vertices, records read/written.
    """

    template_fields: Sequence[str] = ("sql", "job_name", "flink_config", "target_options")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"sql": "sql", "flink_config": "json"}
    ui_color = "#e6f1f2"
    operator_extra_links = (FlinkJobLink(), FlinkHistoryServerLink(), YarnApplicationLink())
    external_id_key = "flink_job_id"

    def __init__(
        self,
        *,
        sql: str,
        flink_conn_id: str = DEFAULT_CONN_ID,
        flink_config: dict[str, Any] | None = None,
        presets: list[str] | None = None,
        job_name: str | None = None,
        target: str = "session",
        target_options: dict[str, Any] | None = None,
        explain: bool = False,
        plan_check: str = "warn",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        defer_grace: float = conf.getfloat("flinkbatch", "defer_grace", fallback=DEFAULT_DEFER_GRACE),
        poll_interval: float = 5.0,
        transient_error_budget: float = 180.0,
        cancel_on_kill: bool = True,
        rerun_finished: bool = False,
        retry_on: dict[str, bool] | None = None,
        sink_assets: dict[str, str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sql, self.flink_conn_id, self.flink_config = sql, flink_conn_id, flink_config or {}
        self.presets = check_preset_names(presets or [])  # unknown names fail the DAG import
        self.job_name, self.target, self.target_options = job_name, target, target_options or {}
        validate_target_options(target, self.target_options)  # a typo fails the DAG import, naming the field
        self.explain, self.plan_check, self.deferrable = explain, check_plan_mode(plan_check), deferrable
        self.defer_grace = check_defer_grace(defer_grace)  # a bad value fails the DAG import
        self.poll_interval, self.transient_error_budget = poll_interval, transient_error_budget
        self.cancel_on_kill, self.rerun_finished = cancel_on_kill, rerun_finished
        self.retry_on = check_retry_on(retry_on)
        self.asset_alias, self.sink_assets = outlets.declare(self, sql, kwargs.get("inlets")), sink_assets
        self.job_id: str | None = None
        self._request: JobRequest | None = None
        self._result: dict[str, Any] | None = None
        self._built_target: Target | None = None

    def _target(self) -> Target:
        """Built once per task run: one connection lookup and one client for submit, status and wait."""
        if self._built_target is None:
            retry = RetryPolicy(budget=self.transient_error_budget)
            self._built_target = create_target(self.target, self.flink_conn_id, self.target_options, retry)
        return self._built_target

    def _handle(self, job_id: str) -> JobHandle:
        return self._target().handle_for(job_id, self._request)

    def execute(self, context: Context) -> Any:
        # The extra links read this key in every outcome; an explicit "no job yet" keeps a task that fails
        # before submitting from logging "XCom not found" errors.
        ti = context["ti"]
        ti.xcom_push(key=XCOM_KEY, value={"job_id": None})
        try:
            self._request = build_request(ti, self.checked_sql(), self.flink_config, self.presets, self.job_name)
        except JobDefinitionError as err:
            raise AirflowFailException(f"{self.task_id}: {err}") from err
        if self.target == "session" and (warning := session_warning(self.presets)):
            self.log.warning("%s", warning)
        if self.explain:
            # Flink tooling (a local JVM and the Flink jars): loaded only for tasks with explain=True.
            from airflow_provider_flinkbatch.plan.check import check_plan

            check_plan(ti, self.log, self._request, self.sql, self.sql_origin, self.plan_check, self.task_id)
        return self.execute_resumable(context)

    def submit_job(self, context: Context) -> str:
        """Reattach to this task instance's job if the target has it, else submit (never twice)."""
        assert self._request is not None
        try:
            target, reported = self._target(), reported_job(context)  # reported + FINISHED: cleared, run again
            outcome = reattach.attach_or_submit(target, self._request, self.rerun_finished, reported)
        except (FlinkConnectionError, reattach.IdentityConflict) as err:  # a retry would meet the same
            raise AirflowFailException(str(err)) from err
        except SubmissionAnswerLost as err:  # nothing runs unsupervised: a retry may submit (after looking again)
            raise AirflowException(str(err)) from err
        except SubmissionRejected as err:
            raise_for_rejected_submission(self.log, err, self.sql, self.sql_origin)
        self.log.info("%s", outcome.describe(self._request, target))
        return outcome.handle.job_id

    def get_job_status(self, external_id: Any, context: Context) -> str:
        assert self._request is not None
        fingerprint, reported = self._request.identity.fingerprint, reported_job(context)
        return reattach.stored_job_status(self._target(), self._handle(str(external_id)), fingerprint, reported)

    def is_job_active(self, status: str) -> bool:
        return reattach.is_stored_job_active(status)

    def is_job_succeeded(self, status: str) -> bool:
        return JobState.of(status).succeeded and not self.rerun_finished

    # The mixin returns poll_until_complete()'s value when it reconnects, so it returns the summary too.
    def poll_until_complete(self, external_id: Any, context: Context) -> dict[str, Any]:  # type: ignore[override]
        """Wait for the job: defer to the trigger, or poll here. Returns the summary (raises on failure)."""
        target = self._target()
        handle = self._handle(str(external_id))
        self.job_id = handle.job_id
        context["ti"].xcom_push(key=XCOM_KEY, value=job_info(target, handle, finished=False))
        details = watch_before_defer(target, handle, self.defer_grace if self.deferrable else 0.0, self.poll_interval)
        if self.deferrable and JobState.from_json(details).running:  # over within the grace: no need to defer
            wait = WaitOptions.model_validate(self, from_attributes=True)  # poll_interval, cancel_on_kill, ...
            # deferral timeouts end in resume_execution below
            self.defer(
                trigger=target.trigger(handle, wait), method_name="execute_complete", timeout=self.execution_timeout
            )
        details = wait_in_worker(target, handle, details, self.poll_interval)
        self._result = self._finish(context, target, handle, summarize_job(details).model_dump())
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        if self._result is not None:
            return self._result
        return self.poll_until_complete(external_id, context)  # a stored, already FINISHED job

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired."""
        self.job_id = event["job_id"]
        if event.get("status") != "terminal":
            raise AirflowException(f"Lost track of Flink job {event['job_id']}: {event.get('message')}")
        target, handle = self._target(), self._handle(event["job_id"])
        return self._finish(context, target, handle, ended_summary(event, lambda: target.job_details(handle)))

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """A deferral that timed out (or whose trigger crashed) fails here: stop the Flink job first."""
        if next_method == TRIGGER_FAIL_REPR and self.cancel_on_kill:
            self.job_id = stored_job_id(context, self.external_id_key, self.task_id)
            if self.job_id:
                self.log.warning("Waiting for Flink job %s ended without a result: cancelling it", self.job_id)
                self.on_kill()
        return super().resume_execution(next_method, next_kwargs, context)

    def _finish(self, context: Context, target: Target, handle: JobHandle, summary: dict[str, Any]) -> dict[str, Any]:
        context["ti"].xcom_push(key=XCOM_KEY, value=job_info(target, handle, finished=True))
        clean_up(target, handle, summary["state"], self.log)
        if not JobState.of(summary["state"]).succeeded:
            diagnosis = target.diagnose(handle, summary["state"], self.retry_on)
            raise_for_failed_job(self.log, context, diagnosis, links=job_links(target.link_info(handle), handle.job_id))
        # after a deferral this is a fresh operator: the INSERT targets come from the (rendered) script
        statements = self._request.statements if self._request is not None else split_statements(self.sql)
        summary, figures = finished_summary(target, handle, summary, statements, self.log)
        context["ti"].xcom_push(key=METRICS_XCOM_KEY, value=figures.metrics())
        events = context["outlet_events"]
        outlets.attach_events(events, self.asset_alias, statements, summary, self.sink_assets, self.log)
        self.log.info("Flink job %s metrics:\n%s", handle.job_id, figures.metrics_table())
        self.log.info("%s", figures.finished_line())
        mark_reported(context, handle.job_id)  # last: a clear of this success runs the SQL again
        return summary

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The script's input/output datasets (see ``lineage.py``); ``None`` without the OpenLineage provider."""
        return facets_of_script(self.sql)

    def on_kill(self) -> None:
        if self.cancel_on_kill:
            cancel_task_jobs(self._target(), self.job_id, self._request, self.log)
