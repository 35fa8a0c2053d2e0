"""YARN target: each job is its own Flink cluster, a YARN application started in application mode.

Submission runs ``flink run -t yarn-application`` (see :mod:`~airflow_provider_flinkbatch.yarn.cli`)
with the job's deterministic id as ``$internal.pipeline.job-id`` and the identity in YARN tags, so a
later try finds the application by tag (``find_existing``) instead of submitting twice. While the
application runs, Flink's REST API is reached through the YARN web proxy; once it is gone, the
HistoryServer knows the job, and YARN's own final status and diagnostics fill any gap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger

from airflow_provider_flinkbatch.config_secrets import secret_values
from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose, diagnose_submission
from airflow_provider_flinkbatch.history.sources import JobLookup, JobSource, RestJobSource
from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.jobs import root_cause_of_stacktrace, submission_failure_message
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkRestError
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, ensure_runner_jar, runner_program_args
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
from airflow_provider_flinkbatch.triggers.yarn import YarnApplicationTrigger
from airflow_provider_flinkbatch.yarn import calls, tags
from airflow_provider_flinkbatch.yarn.cli import (
    CliResult,
    FlinkCliError,
    build_run_argv,
    parse_application_id,
    redact_argv,
    run_cli,
)
from airflow_provider_flinkbatch.yarn.client import YarnRmClient
from airflow_provider_flinkbatch.yarn.hook import FlinkYarnHook, flink_client, proxy_url
from airflow_provider_flinkbatch.yarn.options import YarnTargetOptions
from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings
from airflow_provider_flinkbatch.yarn.state import ApplicationState, details_from_app

CliRunner = Callable[[Sequence[str], Mapping[str, str], float], CliResult]

log = logging.getLogger(__name__)
DEPLOYMENT_TARGET = "yarn-application"
JOB_ID_KEY = "$internal.pipeline.job-id"


class YarnTarget:
    """Runs each job as a Flink application cluster on YARN (``target="yarn"``)."""

    kind = "yarn"
    #: Seconds an application whose CLI answer was lost is looked for (see :mod:`..targets.lost_answer`).
    lost_answer_grace = LOST_ANSWER_GRACE

    def __init__(
        self,
        settings: YarnConnectionSettings,
        options: YarnTargetOptions,
        rm: YarnRmClient,
        retry: RetryPolicy,
        *,
        runner_jar: str | None = None,
        cli: CliRunner = run_cli,
    ) -> None:
        self.settings = settings
        self.options = options
        self.rm = rm
        self.retry = retry
        self.conn_id = settings.conn_id
        self._runner_jar = runner_jar or settings.runner_jar
        self._cli = cli
        self._sources: dict[str, JobSource] = {}

    @classmethod
    def from_connection(cls, conn_id: str, options: YarnTargetOptions, retry: RetryPolicy) -> YarnTarget:
        hook = FlinkYarnHook(conn_id, retry)
        return cls(hook.settings, options, hook.rm, retry)

    def describe(self) -> str:
        queue = f", queue {self.options.queue}" if self.options.queue else ""
        return f"YARN ({', '.join(self.settings.rm_urls)}), {DEPLOYMENT_TARGET}{queue}"

    # ------------------------------------------------------------------ submission
    @property
    def runner_jar(self) -> str:
        if self._runner_jar is None:
            self._runner_jar = str(ensure_runner_jar().path)
        return self._runner_jar

    def application_config(self, request: JobRequest) -> dict[str, str]:
        """Every ``-D`` option of the submission: presets < job config < per-job YARN options < identity."""
        options = self.options
        config: dict[str, str] = {**self.settings.flink_config, **effective_flink_config(request)}
        config.update({key: _text(value) for key, value in options.flink_config.items()})
        config.update(self.settings.kerberos_config())
        for key, value in (
            ("yarn.application.queue", options.queue),
            ("jobmanager.memory.process.size", options.jobmanager_memory),
            ("taskmanager.memory.process.size", options.taskmanager_memory),
            ("taskmanager.numberOfTaskSlots", options.taskmanager_slots),
        ):
            if value:
                config[key] = str(value)
        config["yarn.application.name"] = options.application_name or request.job_name
        identity = request.identity
        preset_tags = [tag.strip().lower() for tag in config.get("yarn.tags", "").split(",") if tag.strip()]
        all_tags = list(
            dict.fromkeys(
                tags.identity_tags(identity.key, request.job_id, identity.fingerprint) + options.tags + preset_tags
            )
        )
        if len(all_tags) > tags.MAX_TAGS or any(len(tag) > tags.MAX_TAG_LENGTH for tag in all_tags):
            raise ValueError(
                f"YARN allows {tags.MAX_TAGS} tags of up to {tags.MAX_TAG_LENGTH} characters per application; "
                f"this job would carry {all_tags} (the first {len(all_tags) - len(options.tags) - len(preset_tags)} "
                "are "
                "the provider's): drop some from target_options tags or the yarn.tags config"
            )
        config["yarn.tags"] = ",".join(all_tags)
        config[JOB_ID_KEY] = request.job_id
        return config

    def build_argv(self, request: JobRequest, *, deployment_target: str = DEPLOYMENT_TARGET) -> list[str]:
        return build_run_argv(
            self.settings.flink_executable(),
            target=deployment_target,
            config=self.application_config(request),
            main_class=RUNNER_MAIN_CLASS,
            jar=self.runner_jar,
            program_args=runner_program_args(request.statements),
        )

    def submit(self, request: JobRequest) -> JobHandle:
        argv = self.build_argv(request)
        secrets = secret_values(self.application_config(request))
        log.info("Running %s", " ".join(redact_argv(argv, secrets)))
        try:
            result = self._cli(argv, self.settings.cli_environment(), self.settings.cli_timeout)
        except FlinkCliError as err:
            if not err.started:
                raise SubmissionRejected(str(err), sql_error=False) from err
            return self._after_lost_answer(request, str(err))
        if result.returncode < 0:  # killed by a signal: it may have deployed the application first
            return self._after_lost_answer(
                request, f"the flink CLI was killed by signal {-result.returncode}; last output: {result.tail}"
            )
        # The CLI may have deployed the application and still failed afterwards (or its log lines went to a
        # file): the job tag says for sure.
        app_id = parse_application_id(result.output) or self._app_id_for(request.job_id)
        if app_id is None:
            raise SubmissionRejected(
                f"flink run -t {DEPLOYMENT_TARGET} submitted no YARN application (exit code {result.returncode}); "
                f"CLI output:\n{result.tail}",
                sql_error=False,
            )
        if result.returncode != 0:
            refusal = self._refusal(app_id)
            if refusal:
                raise SubmissionRejected(f"{refusal}\nCLI output:\n{result.tail}", sql_error=False)
        return self._accepted(request.job_id, app_id)

    def _accepted(self, job_id: str, app_id: str) -> JobHandle:
        app_id = self._settle_race(job_id, app_id)
        log.info("Flink job %s runs as YARN application %s", job_id, app_id)
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id, ref=app_id)

    def _after_lost_answer(self, request: JobRequest, lost: str) -> JobHandle:
        """The CLI's answer is lost (it timed out or died) but it may have deployed the application: the job's
        tag finds it, or says clearly that YARN has none (nothing runs unsupervised either way)."""
        job_id, tag = request.job_id, tags.job_tag(request.job_id)
        log.warning("No answer from the flink CLI for job %s (%s): looking for tag %s", job_id, lost, tag)
        try:
            app_id = look_again(lambda: self._app_id_for(job_id), self.lost_answer_grace)
        except FlinkRestError as err:
            raise SubmissionAnswerLost(
                f"the flink CLI's answer was lost ({lost}) and YARN could not be asked whether an application "
                f"carries tag {tag} ({err}); the next try looks for it before submitting again"
            ) from err
        if app_id is None:
            raise SubmissionAnswerLost(
                f"the flink CLI's answer was lost and YARN has no application tagged {tag} (looked for "
                f"{self.lost_answer_grace:g}s): {lost}. Nothing runs for this try; the next try looks for the "
                "application again before submitting"
            )
        log.warning("YARN runs job %s as %s although the flink CLI's answer was lost: following it", job_id, app_id)
        return self._accepted(job_id, app_id)

    def _refusal(self, app_id: str) -> str | None:
        """The CLI failed after YARN got the application: if YARN already ended it (e.g. an unknown
        queue), the task says so in YARN's words instead of reporting a submission."""
        app = self.rm.call(calls.application(app_id))
        if not ApplicationState.of(app).final:
            return None
        diagnostics = " ".join(str(app.get("diagnostics") or "").split())
        verdict = f"{app.get('state')}/{app.get('finalStatus')}"
        text = f"YARN ended application {app_id} during submission ({verdict}): {diagnostics}"
        if "queue" in diagnostics.lower():
            try:
                queues: list[str] = self.rm.call(calls.queue_names())
                text += f"; the scheduler's queues: {', '.join(queues)}"
            except FlinkRestError as err:
                log.debug("no queue list: %s", err)
        return text

    def _settle_race(self, job_id: str, app_id: str) -> str:
        """YARN does not refuse a second application for the same job id (Flink would): if two workers
        raced, every one of them keeps the oldest live application and kills its own newer one."""
        live = sorted(
            (app for app in self._apps_with_tag(tags.job_tag(job_id)) if not ApplicationState.of(app).final),
            key=lambda app: _app_order(str(app["id"])),
        )
        if live and str(live[0]["id"]) != app_id:
            winner = str(live[0]["id"])
            log.warning("Job %s already runs as %s: killing the duplicate %s", job_id, winner, app_id)
            self.rm.call(calls.kill(app_id))
            return winner
        return app_id

    # ------------------------------------------------------------------ finding
    def _apps_with_tag(self, tag: str) -> list[dict[str, Any]]:
        return self.rm.call(calls.applications_by_tags([tag]))

    def _app_id_for(self, job_id: str) -> str | None:
        """The application of a job id: a live one first, else the latest started."""
        found = [app for app in self._apps_with_tag(tags.job_tag(job_id)) if tags.job_id_of(app) == job_id]
        if not found:
            return None
        best = max(found, key=lambda app: (not ApplicationState.of(app).final, int(app.get("startedTime") or 0)))
        return str(best["id"])

    def find_existing(self, identity: JobIdentity) -> list[ExistingJob]:
        """Applications tagged with this task instance's identity, one per attempt (a live one preferred)."""
        candidates = identity.candidate_job_ids()
        found: dict[str, tuple[dict[str, Any], ExistingJob]] = {}
        for app in self._apps_with_tag(tags.identity_tag(identity.key)):
            job_id = tags.job_id_of(app)
            if job_id not in candidates:
                continue
            job = ExistingJob(
                handle=JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id, ref=str(app["id"])),
                attempt=candidates[job_id],
                state=ApplicationState.of(app).flink_state,
                fingerprint=tags.fingerprint_of(app),
            )
            previous = found.get(job_id)
            if previous is None or (ApplicationState.of(previous[0]).final and not ApplicationState.of(app).final):
                found[job_id] = (app, job)
        return sorted((job for _, job in found.values()), key=lambda job: job.attempt)

    def handle_for(self, job_id: str, request: JobRequest | None = None) -> JobHandle:
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id, ref=self._app_id_for(job_id))

    def _app(self, handle: JobHandle) -> dict[str, Any]:
        if not handle.ref:
            raise FlinkNotFoundError(
                f"no YARN application carries tag {tags.job_tag(handle.job_id)} (job {handle.job_id})",
                url=self.settings.rm_urls[0],
            )
        return self.rm.call(calls.application(handle.ref))

    def job_fingerprint(self, handle: JobHandle) -> str | None:
        return tags.fingerprint_of(self._app(handle))

    # ------------------------------------------------------------------ Flink side
    def _flink_sources(self, app: dict[str, Any]) -> list[JobSource]:
        """Where Flink's own JSON about the job is: the live JobManager via the proxy, the HistoryServer."""

        def source(name: str, url: str) -> JobSource:
            if url not in self._sources:  # one HTTP session per URL for the life of this target
                short = RetryPolicy(budget=min(10.0, self.retry.budget))
                self._sources[url] = RestJobSource(name, flink_client(self.settings, url, short))
            return self._sources[url]

        sources: list[JobSource] = []
        if ApplicationState.of(app).running:
            sources.append(source("jobmanager", proxy_url(self.settings, app)))
        if self.settings.history_server_url:
            sources.append(source("historyserver", self.settings.history_server_url))
        return sources

    def job_sources(self, handle: JobHandle) -> list[JobSource]:
        """The lookup chain's sources for the job as YARN has it now: its JobManager through the web proxy (the
        application's tracking URL) while the application runs, then the HistoryServer. A ResourceManager that
        does not answer leaves the HistoryServer (the task's view must not fail on it)."""
        try:
            app = self._app(handle) if handle.ref else {}
        except FlinkRestError as err:
            log.info("YARN does not answer for application %s: %s", handle.ref, err)
            app = {}
        return self._flink_sources(app)

    def _lookup(self, app: dict[str, Any], path: str) -> tuple[str, Any] | None:
        """The live JobManager (proxy), then the HistoryServer; a proxy error page counts as "not there"."""
        source, answer, tried = JobLookup(self._flink_sources(app)).first(path)
        if source is None:
            log.debug("%s: %s", path, "; ".join(tried))
            return None
        return source.name, answer

    def _archived(self, app: dict[str, Any], path: str) -> tuple[str, Any] | None:
        """Like :meth:`_lookup`, but gives the HistoryServer ``history_grace`` seconds after the
        application ended to pick up the archive."""
        while True:
            found = self._lookup(app, path)
            ended = int(app.get("finishedTime") or 0) / 1000
            waiting = ApplicationState.of(app).final and self.settings.history_server_url and ended > 0
            if found is not None or not waiting or time.time() - ended > self.settings.history_grace:
                return found
            time.sleep(1.0)

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        """Flink's ``/jobs/<id>`` (proxy, then HistoryServer); from YARN alone when neither has it."""
        app = self._app(handle)
        found = self._archived(app, f"/jobs/{handle.job_id}")
        if found is not None:
            return dict(found[1])
        return details_from_app(app, handle.job_id)

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]:
        found = self._archived(self._app(handle), f"/jobs/{handle.job_id}/exceptions")
        return dict(found[1]) if found is not None else {"exceptionHistory": {"entries": []}}

    def job_accumulators(self, handle: JobHandle) -> dict[str, Any]:
        """The runner's rows-written counters (proxy, then HistoryServer)."""
        found = self._archived(self._app(handle), f"/jobs/{handle.job_id}/accumulators")
        return dict(found[1]) if found is not None else {}

    def cancel(self, handle: JobHandle) -> None:
        """Kill the YARN application (the JobManager and every TaskManager go with it).

        With an RM client of its own: a task kill runs ``on_kill`` in the worker's SIGTERM handler, which
        may have interrupted this target's client mid-request, holding its connection pool's lock (the
        kill then waited forever on the real cluster)."""
        rm = YarnRmClient(self.settings, self.retry)
        try:
            app_id = handle.ref
            if not app_id:
                found = rm.call(calls.applications_by_tags([tags.job_tag(handle.job_id)]))
                live = [a for a in found if tags.job_id_of(a) == handle.job_id and not ApplicationState.of(a).final]
                app_id = str(live[0]["id"]) if live else None
            if app_id:
                state = rm.call(calls.kill(app_id))
                log.info("Asked YARN to kill %s (state %s)", app_id, state)
        finally:
            rm.close()

    def trigger(self, handle: JobHandle, wait: WaitOptions) -> BaseTrigger:
        if not handle.ref:
            raise FlinkNotFoundError(f"job {handle.job_id} has no YARN application to follow", url="")
        return YarnApplicationTrigger(
            application_id=handle.ref, job_id=handle.job_id, flink_conn_id=self.conn_id, **wait.model_dump()
        )

    def link_info(self, handle: JobHandle) -> dict[str, Any]:
        info: dict[str, Any] = {"history_server_url": self.settings.history_server_url}
        if handle.ref:
            try:
                app = self.rm.call(calls.application(handle.ref))
                info["web_ui_url"] = proxy_url(self.settings, app)
            except FlinkRestError:
                info["web_ui_url"] = self.settings.proxy_url(handle.ref)
            info["yarn_app_url"] = self.settings.app_page_url(handle.ref)
        return info

    def _application_failure(self, app: dict[str, Any]) -> str | None:
        """Why ``main()`` failed before any job ran (e.g. the runner's SQL validation): YARN's diagnostics
        are empty then, but Flink 2.3 archives the application itself; the HistoryServer's
        ``/applications/<flink application id>`` whose JobManager ran as this YARN application (its
        ``high-availability.cluster-id``) has the exception."""
        for source in self._flink_sources({}):  # the HistoryServer (the application is over)
            try:
                overview = source.get("/applications/overview") or {}
                failed = [a for a in overview.get("applications") or [] if a.get("status") == "FAILED"]
                for candidate in sorted(failed, key=lambda a: -int(a.get("end-time") or 0))[:20]:
                    config = source.get(f"/applications/{candidate['id']}/jobmanager/config") or []
                    if {"key": "high-availability.cluster-id", "value": app.get("id")} not in config:
                        continue
                    answer = source.get(f"/applications/{candidate['id']}/exceptions") or {}
                    entries = (answer.get("exceptionHistory") or {}).get("entries") or []
                    return str(entries[0].get("stacktrace") or entries[0].get("exceptionName")) if entries else None
            except (FlinkRestError, AttributeError, TypeError) as err:
                log.debug("%s has no application archive for %s: %s", source.name, app.get("id"), err)
        return None

    def diagnose(self, handle: JobHandle, state: str, retry_on: dict[str, bool] | None) -> Diagnosis:
        """Flink's root cause (proxy or HistoryServer) plus YARN's final status and diagnostics."""
        try:
            app: dict[str, Any] | None = self._app(handle)
        except FlinkRestError as err:
            log.warning("YARN does not know the application of job %s: %s", handle.job_id, err)
            app = None
        result: Diagnosis | None = None
        if app is not None:
            found = self._archived(app, f"/jobs/{handle.job_id}")
            if found is not None:
                source, details = found
                exceptions = self._lookup(app, f"/jobs/{handle.job_id}/exceptions")
                result = diagnose(
                    handle.job_id, details, exceptions[1] if exceptions else None, source=source, retry_on=retry_on
                )
        if result is None:
            # No Flink source knows the job: it failed before or while starting (e.g. the runner's SQL
            # validation in main()); the application archive, else YARN's diagnostics, carry that exception.
            text = (self._application_failure(app) if app else None) or str(
                (app or {}).get("diagnostics") or f"no Flink source and no YARN application for {state}"
            )
            result = diagnose_submission(handle.job_id, text, retry_on)  # classified on the whole text
            exception_class, _, _ = root_cause_of_stacktrace(text)
            result = result.model_copy(
                update={
                    "source": "yarn",
                    "state": ApplicationState.of(app).flink_state if app else state,
                    "exception_class": exception_class if exception_class != "unknown" else None,
                    "message": submission_failure_message([text])[:2000],
                    "frames": [],
                }
            )
        if app is not None:
            result = result.model_copy(update={"advice": f"{result.advice}; {ApplicationState.of(app).message}"})
        return result


def _app_order(app_id: str) -> tuple[int, int]:
    _, cluster, sequence = app_id.split("_")
    return int(cluster), int(sequence)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
