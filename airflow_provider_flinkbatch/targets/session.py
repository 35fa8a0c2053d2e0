"""Session cluster target: upload the SQL runner jar once, run it through ``/jars/<id>/run``.

This is the local default (``flinkbatch local up``) and fits any standalone, Kubernetes or YARN
*session* cluster whose REST API Airflow can reach.
"""

from __future__ import annotations

import threading
from typing import Any

from airflow_provider_flinkbatch import jobs
from airflow_provider_flinkbatch.identity import PARAM_PREFIX, JobIdentity, flink_map_option
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import FlinkRestClient
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkServerError
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, RunnerJar, ensure_runner_jar, runner_program_args
from airflow_provider_flinkbatch.targets.base import ExistingJob, JobHandle, JobRequest, SubmissionRejected

# (REST URL, jar content hash) -> jar id, so one process uploads a given runner to a cluster once.
_UPLOADED: dict[tuple[str, str], str] = {}
_UPLOAD_LOCK = threading.Lock()
GLOBAL_JOB_PARAMETERS = "pipeline.global-job-parameters"


class SessionTarget:
    """Runs jobs on an existing Flink session cluster through its REST API."""

    kind = "session"

    def __init__(self, client: FlinkRestClient, conn_id: str, runner_jar: RunnerJar | None = None) -> None:
        self.client = client
        self.conn_id = conn_id
        self._runner_jar = runner_jar

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
        config = {"execution.runtime-mode": "BATCH", **request.flink_config, "pipeline.name": request.job_name}
        config[GLOBAL_JOB_PARAMETERS] = flink_map_option(
            request.identity.job_parameters(request.attempt), config.get(GLOBAL_JOB_PARAMETERS)
        )
        return {
            "entryClass": RUNNER_MAIN_CLASS,
            "programArgsList": runner_program_args(request.statements),
            "jobId": request.job_id,
            "flinkConfiguration": config,
        }

    def submit(self, request: JobRequest) -> JobHandle:
        body = self.run_body(request)
        try:
            try:
                answer = self.client.call(calls.run_jar(self.runner_jar_id(), body))
            except FlinkNotFoundError:  # jar gone (cluster restarted without web.upload.dir): upload again
                answer = self.client.call(calls.run_jar(self.runner_jar_id(refresh=True), body))
        except FlinkServerError as err:
            duplicate = jobs.is_duplicate_submission(err.errors)
            raise SubmissionRejected(
                jobs.submission_failure_message(err.errors or [str(err)]),
                sql_error=not duplicate and jobs.is_sql_error(err.errors),
                duplicate=duplicate,
            ) from err
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=str(answer["jobid"]))

    def find_existing(self, identity: JobIdentity) -> list[ExistingJob]:
        """One ``/jobs/overview`` call (fresh, not cached) matched against the identity's job ids."""
        candidates = identity.candidate_job_ids()
        found = []
        for job in self.client.call(calls.jobs_overview())["jobs"]:
            attempt = candidates.get(str(job.get("jid")))
            if attempt is None:
                continue
            handle = JobHandle(target=self.kind, conn_id=self.conn_id, job_id=str(job["jid"]))
            config = self.client.call(calls.job_config(handle.job_id))
            user_config = (config.get("execution-config") or {}).get("user-config") or {}
            found.append(
                ExistingJob(
                    handle=handle,
                    attempt=attempt,
                    state=str(job.get("state")),
                    fingerprint=user_config.get(f"{PARAM_PREFIX}fingerprint"),
                )
            )
        return sorted(found, key=lambda job: job.attempt)

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        return self.client.call(calls.job_details(handle.job_id))

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]:
        return self.client.call(calls.job_exceptions(handle.job_id))

    def cancel(self, handle: JobHandle) -> None:
        self.client.call(calls.cancel_job(handle.job_id))
