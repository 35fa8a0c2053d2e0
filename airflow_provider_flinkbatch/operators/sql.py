"""FlinkBatchSqlOperator: run a Flink SQL script as one Flink batch job and wait for it.

Thin by design: split the SQL, build the job request with its deterministic identity, let
:mod:`~airflow_provider_flinkbatch.reattach` decide between reattaching and submitting, then wait
either in the triggerer (deferrable) or in the worker. Airflow's ``ResumableJobMixin`` keeps the job
id in the task state store across tries; the identity lookup closes the mixin's gap (a crash between
submit and saving the id). Both waiting paths end in :meth:`_finish`, which reads the summary or, on
failure, the root cause through the same REST client code.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator, ResumableJobMixin
from airflow.sdk.configuration import conf

from airflow_provider_flinkbatch.config_secrets import mask_secret_config
from airflow_provider_flinkbatch.links.flink import XCOM_KEY, FlinkHistoryServerLink, FlinkJobLink
from airflow_provider_flinkbatch.links.yarn import YarnApplicationLink
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_flinkbatch.targets.base import JobHandle, JobRequest, Target

#: Largest SQL script accepted. Statements travel base64-encoded in one REST request, which Flink caps at
#: ``rest.server.max-content-length`` (100 MiB by default); real scripts are kilobytes.
MAX_SQL_BYTES = 16 * 1024 * 1024

PLAN_XCOM_KEY = "flink_plan"
METRICS_XCOM_KEY = "flink_metrics"

#: Status reported for a stored job id the target no longer knows, or whose SQL/config changed.
GONE, STALE = "UNKNOWN", "STALE"


def _too_large(what: str, size: int) -> str:
    return (
        f"{what} {size / 1024 / 1024:.1f} MiB; the limit is {MAX_SQL_BYTES // 1024 // 1024} MiB. "
        "Keep data out of the script: read it from a table or file instead of inlining it"
    )


def _check_retry_on(retry_on: dict[str, bool] | None) -> dict[str, bool]:
    """Unknown categories are a DAG bug: say so at parse time, not after a failure."""
    from typing import get_args

    from airflow_provider_flinkbatch.diagnosis import Category

    known = set(get_args(Category))
    unknown = set(retry_on or {}) - known
    if unknown:
        raise ValueError(f"retry_on: unknown failure categories {sorted(unknown)}; known: {sorted(known)}")
    return dict(retry_on or {})


class FlinkBatchSqlOperator(ResumableJobMixin, BaseOperator):
    """Submit Flink SQL (inline or a templated ``.sql`` file) as one Flink batch job.

    :param sql: the script; several statements are allowed (DDL, ``SET``, several INSERTs, which run
        as one statement set = one job). Ends in ``.sql`` -> read from the DAG folder and templated.
    :param flink_conn_id: connection of type ``flink_batch``.
    :param flink_config: Flink configuration for this job (``{"parallelism.default": 4}``), sent
        with the submission; ``SET`` statements in the script apply on top.
    :param presets: named configuration presets merged under ``flink_config`` in order (``celeborn``,
        ``adaptive-batch``, ``speculative``, ``blocking-shuffle``, ``hybrid-shuffle``, ``memory-small``,
        ``memory-large``; ``flinkbatch presets`` lists their keys). ``flink_config`` wins on conflicts.
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
    :param deferrable: wait in the triggerer instead of holding a worker slot
        (default: Airflow's ``[operators] default_deferrable``).
    :param poll_interval: the longest wait between status polls, in seconds. Polls start every 0.5 s and
        slow down to a tenth of the job's age, capped at this (a job's end is noticed quickly either way).
    :param transient_error_budget: seconds the JobManager may stay unreachable (or answer 5xx / proxy
        error pages) while waiting before the task fails; polls back off with jitter meanwhile.
    :param cancel_on_kill: cancel the Flink job when the task is killed, times out or is marked
        failed/success while deferred.
    :param rerun_finished: when a retry or re-run finds that this task instance's job already FINISHED
        with the same SQL and config, run it again instead of reporting that result (default False).
    :param retry_on: override whether a failure category is retried, e.g. ``{"out_of_memory": True}``
        (categories: sql_error, user_data_error, out_of_memory, resource_lost, io_error, cancelled, unknown).
        By default SQL, data, memory and cancellation failures fail without retries; lost resources, I/O
        errors and unknown failures use the task's ``retries``.
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
        poll_interval: float = 5.0,
        transient_error_budget: float = 180.0,
        cancel_on_kill: bool = True,
        rerun_finished: bool = False,
        retry_on: dict[str, bool] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sql = sql
        self.flink_conn_id = flink_conn_id
        self.flink_config = flink_config or {}
        from airflow_provider_flinkbatch.presets import check_preset_names

        self.presets = check_preset_names(presets or [])  # unknown names fail the DAG import
        self.job_name = job_name
        self.target = target
        self.target_options = target_options or {}
        from airflow_provider_flinkbatch.targets.registry import validate_target_options

        validate_target_options(target, self.target_options)  # a typo fails the DAG import, naming the field
        if plan_check not in ("warn", "fail"):
            raise ValueError(f"plan_check={plan_check!r}: use 'warn' (log plan warnings) or 'fail' (fail the task)")
        self.explain = explain
        self.plan_check = plan_check
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.transient_error_budget = transient_error_budget
        self.cancel_on_kill = cancel_on_kill
        self.rerun_finished = rerun_finished
        self.retry_on = _check_retry_on(retry_on)
        self.job_id: str | None = None
        self._request: JobRequest | None = None
        self._result: dict[str, Any] | None = None

    # ------------------------------------------------------------------ input guards
    def resolve_template_files(self) -> None:
        """Refuse to load an oversized ``.sql`` file (the DAG processor would read it into memory)."""
        self._sql_too_large: str | None = None
        if isinstance(self.sql, str) and self.sql.endswith(tuple(self.template_ext)):
            size = self._template_file_size(self.sql)
            if size is not None and size > MAX_SQL_BYTES:
                self._sql_too_large = _too_large(f"{self.sql} is", size)
                self.log.warning("%s: %s", self.task_id, self._sql_too_large)
                self.sql = ""  # nothing to read or render; execute() fails with the message
        super().resolve_template_files()

    def _template_file_size(self, name: str) -> int | None:
        import os

        searchpath = getattr(self.get_template_env().loader, "searchpath", None) or []
        for folder in searchpath:
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return os.path.getsize(path)
        return None

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        if getattr(self, "_sql_too_large", None):
            return  # do not feed megabytes to Jinja; execute() reports the problem
        super().render_template_fields(context, jinja_env)

    # ------------------------------------------------------------------ wiring
    def _target(self) -> Target:
        """Built once per task run: one connection lookup and one client for submit, status and wait."""
        target: Target | None = getattr(self, "_built_target", None)
        if target is None:
            from airflow_provider_flinkbatch.rest.client import RetryPolicy
            from airflow_provider_flinkbatch.targets.registry import create_target

            retry = RetryPolicy(budget=self.transient_error_budget)
            target = self._built_target = create_target(self.target, self.flink_conn_id, self.target_options, retry)
        return target

    def _handle(self, job_id: str) -> JobHandle:
        return self._target().handle_for(job_id, self._request)

    def _build_request(self, context: Context) -> JobRequest:
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint, normalize_flink_config
        from airflow_provider_flinkbatch.presets import apply_presets, cluster_level
        from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements
        from airflow_provider_flinkbatch.targets.base import JobRequest

        too_large = getattr(self, "_sql_too_large", None)
        size = len(self.sql.encode()) if isinstance(self.sql, str) else 0
        if too_large or size > MAX_SQL_BYTES:
            raise AirflowFailException(f"{self.task_id}: {too_large or _too_large('the SQL is', size)}")
        mask_secret_config(self.flink_config)
        try:
            statements = split_statements(self.sql)
            flink_config = normalize_flink_config(apply_presets(self.presets, self.flink_config))
        except (SqlScriptError, ValueError) as err:
            raise AirflowFailException(f"{self.task_id}: invalid job definition: {err}") from err
        if self.target == "session" and (shared := cluster_level(self.presets)):
            self.log.warning(
                "Preset(s) %s are cluster-level: on a session cluster they take effect only if the cluster was "
                "started with them (Kubernetes application mode and yarn-application apply them per job)",
                shared,
            )
        ti = context["ti"]
        job_name = self.job_name or f"{ti.dag_id}.{ti.task_id}"
        identity = JobIdentity(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            map_index=ti.map_index if ti.map_index is not None else -1,
            fingerprint=fingerprint(statements, {**flink_config, "pipeline.name": job_name}),
        )
        return JobRequest(statements=statements, flink_config=flink_config, job_name=job_name, identity=identity)

    # ------------------------------------------------------------------ execute
    def execute(self, context: Context) -> Any:
        # The extra links read this key in every outcome; an explicit "no job yet" keeps a task that fails
        # before submitting from logging "XCom not found" errors.
        context["ti"].xcom_push(key=XCOM_KEY, value={"job_id": None})
        self._request = self._build_request(context)
        if self.explain:
            self._check_plan(context, self._request)
        return self.execute_resumable(context)

    def _check_plan(self, context: Context, request: JobRequest) -> None:
        """Plan insight before submitting: log the report, push it to XCom, fail on warnings if asked."""
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_provider_flinkbatch.plan.explain import ExplainError, explain

        try:
            insight = explain(request.statements, request.flink_config)
        except ExplainError as err:
            raise AirflowFailException(f"{self.task_id}: EXPLAIN failed, nothing was submitted: {err}") from err
        self.log.info("Optimized plan:\n%s\nPlan insight:\n%s", insight.plan, insight.describe())
        context["ti"].xcom_push(key=PLAN_XCOM_KEY, value=insight.model_dump())
        if insight.warnings and self.plan_check == "fail":
            raise AirflowFailException(
                f"{self.task_id}: plan check failed (plan_check='fail'): " + "; ".join(insight.warnings)
            )

    def submit_job(self, context: Context) -> str:
        """Reattach to this task instance's job if the target has it, else submit (never twice)."""
        from airflow.sdk.exceptions import AirflowException, AirflowFailException

        from airflow_provider_flinkbatch.reattach import attach_or_submit
        from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError
        from airflow_provider_flinkbatch.targets.base import SubmissionRejected

        assert self._request is not None
        try:
            target = self._target()
            outcome = attach_or_submit(target, self._request, rerun_finished=self.rerun_finished)
        except FlinkConnectionError as err:
            raise AirflowFailException(str(err)) from err
        except SubmissionRejected as err:
            if err.sql_error:
                raise AirflowFailException(f"Flink rejected the SQL, nothing was submitted: {err}") from err
            raise AirflowException(f"Flink refused the job: {err}") from err
        job_id = outcome.handle.job_id
        if outcome.action == "submit":
            self.log.info(
                "Submitted Flink job %s (%s, attempt %d) with %d statement(s) to %s",
                job_id,
                self._request.job_name,
                outcome.attempt,
                len(self._request.statements),
                target.describe(),
            )
        elif outcome.action == "reattach":
            self.log.info("Reattached to Flink job %s (attempt %d): it is still running", job_id, outcome.attempt)
        else:
            self.log.info(
                "Flink job %s (attempt %d) already FINISHED with this SQL: not rerun", job_id, outcome.attempt
            )
        return job_id

    def get_job_status(self, external_id: Any, context: Context) -> str:
        """State of the job id a previous try stored; ``STALE`` if its SQL/config differ from now."""
        from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError

        assert self._request is not None
        target = self._target()
        try:
            handle = self._handle(str(external_id))
            state = str(target.job_details(handle)["state"])
            fingerprint = target.job_fingerprint(handle)
        except FlinkNotFoundError:
            return GONE
        if fingerprint != self._request.identity.fingerprint:
            return STALE
        return state

    def is_job_active(self, status: str) -> bool:
        from airflow_provider_flinkbatch.jobs import is_terminal

        return status not in (GONE, STALE) and not is_terminal(status)

    def is_job_succeeded(self, status: str) -> bool:
        from airflow_provider_flinkbatch.jobs import SUCCESS_STATE

        return status == SUCCESS_STATE and not self.rerun_finished

    # The mixin returns poll_until_complete()'s value when it reconnects, so it returns the summary too.
    def poll_until_complete(self, external_id: Any, context: Context) -> dict[str, Any]:  # type: ignore[override]
        """Wait for the job: defer to the trigger, or poll here. Returns the summary (raises on failure)."""
        from airflow_provider_flinkbatch.jobs import is_terminal, summarize_job

        target = self._target()
        handle = self._handle(str(external_id))
        self.job_id = handle.job_id
        self._push_job_info(context, target, handle, finished=False)
        if self.deferrable:
            details = target.job_details(handle)
            if is_terminal(str(details["state"])):  # already over (e.g. found FINISHED): no need to defer
                self._result = self._finish(context, target, handle, summarize_job(details).model_dump())
                return self._result
            from airflow_provider_flinkbatch.targets.base import WaitOptions

            wait = WaitOptions(
                poll_interval=self.poll_interval,
                transient_error_budget=self.transient_error_budget,
                cancel_on_kill=self.cancel_on_kill,
            )
            self.defer(
                trigger=target.trigger(handle, wait),
                method_name="execute_complete",
                timeout=self.execution_timeout,  # deferral timeouts end in resume_execution below
            )
        self._result = self._finish(context, target, handle, self._wait(target, handle))
        return self._result

    def get_job_result(self, external_id: Any, context: Context) -> dict[str, Any]:
        if self._result is not None:
            return self._result
        return self.poll_until_complete(external_id, context)  # a stored, already FINISHED job

    def _wait(self, target: Target, handle: JobHandle) -> dict[str, Any]:
        """Poll in the worker, as often as the trigger would (fast while the job is young)."""
        from airflow_provider_flinkbatch.jobs import is_terminal, summarize_job
        from airflow_provider_flinkbatch.triggers.poller import job_interval

        while True:
            details = target.job_details(handle)
            if is_terminal(str(details["state"])):
                return summarize_job(details).model_dump()
            time.sleep(job_interval(details, min(0.5, self.poll_interval), self.poll_interval))

    def _push_job_info(self, context: Context, target: Target, handle: JobHandle, *, finished: bool) -> None:
        """What the extra links need; pushed before deferring so the links work while the job runs."""
        info = {**target.link_info(handle), "job_id": handle.job_id, "target": target.kind, "finished": finished}
        if handle.ref:
            info["ref"] = handle.ref
        context["ti"].xcom_push(key=XCOM_KEY, value=info)

    # ------------------------------------------------------------------ resume
    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger fired."""
        from airflow.sdk.exceptions import AirflowException

        self.job_id = event["job_id"]
        if event.get("status") != "terminal":
            raise AirflowException(f"Lost track of Flink job {event['job_id']}: {event.get('message')}")
        return self._finish(context, self._target(), self._handle(event["job_id"]), event["summary"])

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """A deferral that timed out (or whose trigger crashed) fails here: stop the Flink job first."""
        from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR

        if next_method == TRIGGER_FAIL_REPR and self.cancel_on_kill:
            self.job_id = self._job_id_from_context(context)
            if self.job_id:
                self.log.warning("Waiting for Flink job %s ended without a result: cancelling it", self.job_id)
                self.on_kill()
        return super().resume_execution(next_method, next_kwargs, context)

    def _job_id_from_context(self, context: Context) -> str | None:
        store = context.get("task_state_store")
        job_id = store.get(self.external_id_key) if store is not None else None
        if not job_id:
            info = context["ti"].xcom_pull(task_ids=self.task_id, key=XCOM_KEY)
            job_id = info.get("job_id") if isinstance(info, dict) else None
        return str(job_id) if job_id else None

    def _finish(self, context: Context, target: Target, handle: JobHandle, summary: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_flinkbatch.failures import raise_for_failed_job
        from airflow_provider_flinkbatch.jobs import SUCCESS_STATE

        self._push_job_info(context, target, handle, finished=True)
        state = summary["state"]
        # Optional target hook (Kubernetes: delete the resource after success, mark failures for keeping).
        after_terminal = getattr(target, "after_terminal", None)
        if after_terminal is not None:
            try:
                after_terminal(handle, state)
            except Exception as err:  # cleanup is housekeeping: it must not change the task's outcome
                self.log.warning("Cleanup after Flink job %s failed: %s", handle.job_id, err)
        if state == SUCCESS_STATE:
            from airflow_provider_flinkbatch.jobs import JobSummary

            figures = JobSummary.model_validate(summary)
            context["ti"].xcom_push(key=METRICS_XCOM_KEY, value=figures.metrics())
            self.log.info("Flink job %s metrics:\n%s", handle.job_id, figures.metrics_table())
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
        diagnosis = target.diagnose(handle, state, self.retry_on)
        raise_for_failed_job(self.log, context, diagnosis, links=self._links(target, handle))

    def _links(self, target: Target, handle: JobHandle) -> dict[str, str]:
        from airflow_provider_flinkbatch.links.urls import flink_ui_job_url, history_server_job_url

        info = target.link_info(handle)
        links = {}
        if info.get("web_ui_url"):
            links["Flink UI"] = flink_ui_job_url(info["web_ui_url"], handle.job_id, finished=True)
        if info.get("history_server_url"):
            links["HistoryServer"] = history_server_job_url(info["history_server_url"], handle.job_id)
        return links

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Input/output datasets from the script's ``CREATE TABLE ... WITH (...)`` (see :mod:`lineage`).

        Called by ``apache-airflow-providers-openlineage`` when it is installed; ``None`` without it.
        """
        try:
            from airflow_provider_flinkbatch.lineage import job_lineage, openlineage_facets
            from airflow_provider_flinkbatch.sql.statements import split_statements

            return openlineage_facets(job_lineage(split_statements(self.sql)))
        except ImportError:
            return None

    def on_kill(self) -> None:
        if not self.cancel_on_kill:
            return
        job_ids = [self.job_id] if self.job_id else self._submitted_job_ids()
        for job_id in job_ids:
            try:
                self._target().cancel(self._handle(job_id))
                self.log.info("Cancelled Flink job %s", job_id)
            except Exception as err:
                self.log.error("Could not cancel Flink job %s: %s", job_id, err)

    def _submitted_job_ids(self) -> list[str]:
        """Killed while submitting (the job id is not known yet; on YARN the CLI runs for many seconds
        after the application exists): this task instance's live jobs, found by their identity."""
        from airflow_provider_flinkbatch.jobs import is_terminal

        if self._request is None:
            return []
        try:
            existing = self._target().find_existing(self._request.identity)
        except Exception as err:
            self.log.error("Could not look for this task's Flink jobs to cancel: %s", err)
            return []
        return [job.handle.job_id for job in existing if not is_terminal(str(job.state))]
