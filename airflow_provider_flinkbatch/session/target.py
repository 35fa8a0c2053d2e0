"""Session cluster target: upload the SQL runner jar once, run it through ``/jars/<id>/run``.

This is the local default (``flinkbatch local up``) and fits any standalone, Kubernetes or YARN
*session* cluster whose REST API Airflow can reach.

A submission is sent once (never retried blindly). If its answer is lost (timeout, dropped connection, a
proxy's 502/504 after forwarding it), the job's id is known before submitting, so :meth:`SessionTarget.submit`
looks it up (JobManager ``/jobs/<id>``, then the HistoryServer) for up to ``lost_answer_grace`` seconds
and follows it if it is there; otherwise it says so (:class:`SubmissionAnswerLost`), never a false failure
while the job runs unsupervised.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_flinkbatch import jobs
from airflow_provider_flinkbatch.diagnosis import Diagnosis, is_sql_error
from airflow_provider_flinkbatch.history.sources import (
    JobLookup,
    JobSource,
    ListedAttempt,
    RestJobSource,
    listed_attempts,
    parse_answer,
)
from airflow_provider_flinkbatch.identity import PARAM_PREFIX, JobIdentity
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import (
    FlinkBadResponseError,
    FlinkNotFoundError,
    FlinkRestError,
    FlinkServerError,
    FlinkUnreachableError,
)
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, RunnerJar, ensure_runner_jar, runner_program_args
from airflow_provider_flinkbatch.sql.factories import jars_on_classpath, missing_jar_message, needed_jars
from airflow_provider_flinkbatch.sql.inputs import empty_inputs
from airflow_provider_flinkbatch.targets.base import (
    ExistingJob,
    JobHandle,
    JobRequest,
    SubmissionAnswerLost,
    SubmissionRejected,
    WaitOptions,
)
from airflow_provider_flinkbatch.targets.job_config import effective_flink_config
from airflow_provider_flinkbatch.targets.lost_answer import LOST_ANSWER_GRACE, look_again

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

log = logging.getLogger(__name__)

# (REST URL, jar content hash) -> jar id, so one process uploads a given runner to a cluster once.
_UPLOADED: dict[tuple[str, str], str] = {}
_UPLOAD_LOCK = threading.Lock()


class SessionTarget:
    """Runs jobs on an existing Flink session cluster through its REST API."""

    kind = "session"
    #: Seconds a submission whose answer was lost is looked for: Flink registers the job only once the runner's
    #: main() has planned the SQL, which may still be going on when the connection dropped.
    lost_answer_grace = LOST_ANSWER_GRACE

    def __init__(
        self,
        client: FlinkRestClient,
        conn_id: str,
        runner_jar: RunnerJar | None = None,
        history: JobSource | None = None,
    ) -> None:
        self.client = client
        self.conn_id = conn_id
        self._runner_jar = runner_jar
        # The HistoryServer remembers jobs a restarted JobManager forgot: lookups fall back to it.
        self.history = history
        self.jobmanager = RestJobSource("jobmanager", client)
        self.lookup = JobLookup([self.jobmanager, *([history] if history is not None else [])], on_error="raise")

    @classmethod
    def from_connection(cls, flink_conn_id: str, retry: RetryPolicy) -> SessionTarget:
        """The target for a ``flink_batch`` connection: its JobManager, with its HistoryServer as fallback."""
        # Airflow's hooks and triggers load here, not at import: the spec tools run this target without Airflow.
        from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook
        from airflow_provider_flinkbatch.session.hook import FlinkRestHook

        hook = FlinkRestHook(flink_conn_id, retry)
        history = FlinkHistoryServerHook(flink_conn_id, RetryPolicy(budget=min(30.0, retry.budget))).history_server
        return cls(hook.client, flink_conn_id, history=history)

    def describe(self) -> str:
        return f"session cluster {self.client.settings.rest_url}"

    def handle_for(self, job_id: str, request: JobRequest | None = None) -> JobHandle:
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id)

    def job_fingerprint(self, handle: JobHandle) -> str | None:
        config = self._with_history(calls.job_config(handle.job_id))
        user_config = (config.get("execution-config") or {}).get("user-config") or {}
        fingerprint = user_config.get(f"{PARAM_PREFIX}fingerprint")
        return str(fingerprint) if fingerprint is not None else None

    def trigger(self, handle: JobHandle, wait: WaitOptions) -> BaseTrigger:
        # Airflow's trigger classes: only when a task defers (the spec tools run this target without Airflow).
        from airflow_provider_flinkbatch.triggers.job import FlinkJobTrigger

        return FlinkJobTrigger(job_id=handle.job_id, flink_conn_id=self.conn_id, **wait.model_dump())

    def link_info(self, handle: JobHandle) -> dict[str, Any]:
        settings = self.client.settings
        return {"web_ui_url": settings.ui_url, "history_server_url": settings.history_server_url}

    def diagnose(self, handle: JobHandle, state: str, retry_on: dict[str, bool] | None) -> Diagnosis:
        # Airflow's exceptions: only for a failed job (the spec tools run this target without Airflow).
        from airflow_provider_flinkbatch.failures import diagnose_or_placeholder

        return diagnose_or_placeholder(self.conn_id, handle.job_id, state, retry_on)

    @property
    def runner_jar(self) -> RunnerJar:
        if self._runner_jar is None:
            self._runner_jar = ensure_runner_jar()
        return self._runner_jar

    def runner_jar_id(self, *, refresh: bool = False) -> str:
        """The cluster's id of our runner jar: cached, else found by its hash-bearing name, else uploaded."""
        jar = self.runner_jar
        key = (self.client.settings.rest_url, jar.sha256)
        with _UPLOAD_LOCK:
            if not refresh and key in _UPLOADED:
                return _UPLOADED[key]
            for entry in self.client.call(calls.list_jars()).get("files", []):
                if entry.get("name") == jar.upload_name:
                    _UPLOADED[key] = str(entry["id"])
                    return _UPLOADED[key]
            _UPLOADED[key] = self.client.upload_jar(jar.path, jar.upload_name)
            return _UPLOADED[key]

    def run_body(self, request: JobRequest) -> dict[str, Any]:
        config = effective_flink_config(request)
        return {
            "entryClass": RUNNER_MAIN_CLASS,
            "programArgsList": runner_program_args(request.statements),
            "jobId": request.job_id,
            "flinkConfiguration": config,
        }

    def preflight(self, statements: list[str]) -> None:
        """Fail before upload and submission when a table needs a connector/format jar the JobManager lacks,
        or (cluster on this machine) a Parquet/Avro/ORC source folder holds no files."""
        if urlsplit(self.client.settings.rest_url).hostname in ("127.0.0.1", "localhost", "::1"):
            problems = empty_inputs(statements)
            if problems:
                raise SubmissionRejected("; ".join(problems), sql_error=True)
        if not needed_jars(statements):
            return
        classpath = self.client.call(calls.jobmanager_environment()).get("classpath") or []
        where = f"the session cluster at {self.client.settings.rest_url}"
        message = missing_jar_message(statements, jars_on_classpath(classpath), where)
        if message:
            raise SubmissionRejected(message, sql_error=True)

    def submit(self, request: JobRequest) -> JobHandle:
        self.preflight(request.statements)
        body = self.run_body(request)
        try:
            return self._run_jar(self.runner_jar_id(), body, request)
        except FlinkNotFoundError:  # jar gone (cluster restarted without web.upload.dir): upload again
            return self._run_jar(self.runner_jar_id(refresh=True), body, request)

    def _run_jar(self, jar_id: str, body: dict[str, Any], request: JobRequest) -> JobHandle:
        """The one submission request; only its own lost answer is looked up (not a failed jar listing)."""
        try:
            answer = self.client.call(calls.run_jar(jar_id, body))
        except FlinkServerError as err:
            duplicate = jobs.is_duplicate_submission(err.errors)
            raise SubmissionRejected(
                jobs.submission_failure_message(err.errors or [str(err)]),
                sql_error=not duplicate and is_sql_error(err.errors),
                duplicate=duplicate,
            ) from err
        except (FlinkUnreachableError, FlinkBadResponseError) as err:
            return self._after_lost_answer(request, err)
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=str(answer["jobid"]))

    def _after_lost_answer(self, request: JobRequest, err: FlinkRestError) -> JobHandle:
        """The submission may have reached Flink: its id is ours, so look for the job instead of failing."""
        job_id = request.job_id
        log.warning("No answer to the submission of Flink job %s (%s): looking the job up", job_id, err)
        tried: list[str] = []

        def listed() -> bool | None:
            nonlocal tried
            try:
                source, _, tried = self.lookup.first(calls.job_details(job_id).path)
            except FlinkRestError as lookup_err:
                raise SubmissionAnswerLost(
                    f"the submission's answer was lost ({err}) and Flink could not be asked whether it has job "
                    f"{job_id} ({lookup_err}); the next try looks for the job before submitting again"
                ) from err
            return True if source is not None else None

        if look_again(listed, self.lost_answer_grace):
            log.warning("Flink has job %s although the submission's answer was lost: following it", job_id)
            return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id)
        raise SubmissionAnswerLost(
            f"the submission's answer was lost and Flink has no job {job_id}: {err}; looked it up for "
            f"{self.lost_answer_grace:g}s ({'; '.join(tried)}). Nothing runs for this "
            "try; the next try looks for the job again before submitting"
        ) from err

    def find_existing(self, identity: JobIdentity) -> list[ExistingJob]:
        """``/jobs/overview`` of the JobManager (fresh, not cached) and of the HistoryServer for jobs a restarted
        JobManager forgot, matched against the identity's computable job ids.

        Both are asked at once: each listing takes tens of milliseconds on a busy cluster, and this runs before
        every submission (it was the largest part of the provider's own time before a job starts)."""
        candidates = identity.candidate_job_ids()
        if self.history is None:
            return self._existing(listed_attempts(self.jobmanager, candidates))
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flinkbatch-history-listing")
        try:
            from_history = pool.submit(listed_attempts, self.history, candidates)
            listed = listed_attempts(self.jobmanager, candidates)
            try:
                listed += from_history.result()
            except FlinkRestError as err:  # history is a fallback: its outage must not block submissions
                log.warning("HistoryServer not reachable while looking for earlier attempts: %s", err)
        finally:
            pool.shutdown(wait=False)  # a failed JobManager listing need not wait for the HistoryServer's
        return self._existing(listed)

    def _existing(self, listed: list[ListedAttempt]) -> list[ExistingJob]:
        found: dict[str, ExistingJob] = {}
        for job in listed:
            handle = JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job.job_id)
            existing = ExistingJob(
                handle=handle,
                attempt=job.attempt,
                state=job.state,
                fingerprint=job.fingerprint,
                deployment=job.deployment,
            )
            found.setdefault(job.job_id, existing)
        return sorted(found.values(), key=lambda job: job.attempt)

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        return self._with_history(calls.job_details(handle.job_id))

    def job_status(self, handle: JobHandle) -> str:
        """The JobManager's fresh state of the job (``/jobs/<id>/status``, for the worker's fast polls); a job it
        does not know (restarted; it answers 404 or 500 for an unknown id) is asked through :meth:`job_details`,
        which also looks in the HistoryServer."""
        try:
            return str(self.client.call(calls.job_status(handle.job_id))["status"])
        except (FlinkNotFoundError, FlinkServerError):
            return str(self.job_details(handle)["state"])

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]:
        return self._with_history(calls.job_exceptions(handle.job_id))

    def job_accumulators(self, handle: JobHandle) -> dict[str, Any]:
        return self._with_history(calls.job_accumulators(handle.job_id))

    def _with_history(self, call: calls.ApiCall[dict[str, Any]]) -> dict[str, Any]:
        """Ask the JobManager; if it no longer knows the job (restarted), ask the HistoryServer. An outage
        of either is an error, not "unknown" (``on_error="raise"``): a waiting task must not resubmit."""
        source, answer, tried = self.lookup.first(call.path)
        if source is None:
            raise FlinkNotFoundError(f"{call.path}: {'; '.join(tried)}", url=self.client.settings.rest_url, status=404)
        return parse_answer(call, answer, source)

    def cancel(self, handle: JobHandle) -> None:
        self.client.call(calls.cancel_job(handle.job_id))
