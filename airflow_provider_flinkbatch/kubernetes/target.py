"""Kubernetes target: one Flink Kubernetes Operator custom resource per job attempt.

``mode="application"`` creates a ``FlinkDeployment`` (its own JobManager runs the SQL runner),
``mode="session"`` a ``FlinkSessionJob`` on an existing session deployment. Access goes through the
Airflow Kubernetes connection (``KubernetesHook``: in-cluster, kubeconfig, context), imported only
when a task runs.

Decisions (documented in ``docs/kubernetes.md``):

* **Cancel = ``spec.job.state: suspended``** (a merge patch), not deleting the resource. The operator
  then cancels the Flink job (``upgradeMode: stateless``: no savepoint) and, in application mode,
  removes the JobManager; the resource, its status and events stay for the keep-failed window so the
  failure can be looked at. Deleting a resource whose job still runs also stops it, but loses that.
* **Cleanup**: after success the resource (and the SQL ConfigMap) is deleted as soon as the
  HistoryServer has archived the job (``delete_after_success``): from then on the archive proves to a
  retry or re-run that the job FINISHED, so deleting cannot make it run twice. Without a HistoryServer
  the resource stays ``SUCCESS_GRACE_SECONDS``. Failed or cancelled ones get a ``flinkbatch/finished-at``
  annotation; a later submission in the namespace deletes them once ``keep_failed_hours`` have passed.
  Only resources carrying this provider's ``app.kubernetes.io/managed-by`` label are ever deleted.
* **Reattach**: the name and labels are computed from the job identity, so a retry lists the
  resources of its task instance by label and follows the latest attempt instead of creating another.
* **Job id**: every Flink call uses ``.status.jobStatus.jobId`` (:meth:`KubernetesTarget.flink_id`): a
  FlinkSessionJob runs under an id the operator generates; the handle keeps the provider's id (labels).
* **Outcome**: read only through :class:`~airflow_provider_flinkbatch.kubernetes.state.ResourceState`; a state
  the operator can keep for ever fails after ``stall_grace`` (:class:`~.state.StallWatch`).
* **Secrets**: secret ``flink_config`` keys go to the owned Secret ``<name>-secrets`` (see ``manifests``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger

from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose_submission, diagnose_unknown
from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook, JobHistoryNotFound
from airflow_provider_flinkbatch.history.sources import JobLookup, RestJobSource, listed_attempts
from airflow_provider_flinkbatch.identity import PARAM_PREFIX, JobIdentity
from airflow_provider_flinkbatch.kubernetes import manifests as m
from airflow_provider_flinkbatch.kubernetes.hook import (
    SUSPEND,
    FlinkResources,
    ResourceAnswerLost,
    ResourceExists,
    ResourceRefused,
)
from airflow_provider_flinkbatch.kubernetes.options import KubernetesTargetOptions
from airflow_provider_flinkbatch.kubernetes.state import ResourceState, StallWatch, flink_job_id
from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError, FlinkRestError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionError, FlinkConnectionSettings
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.session.state import is_success
from airflow_provider_flinkbatch.targets.base import (
    ExistingJob,
    JobHandle,
    JobRequest,
    SubmissionAnswerLost,
    SubmissionRejected,
    WaitOptions,
)
from airflow_provider_flinkbatch.targets.lost_answer import LOST_ANSWER_GRACE, look_again
from airflow_provider_flinkbatch.triggers.kubernetes import FlinkKubernetesTrigger

log = logging.getLogger(__name__)

#: A FINISHED resource a task did not delete (no HistoryServer had the job yet, or the worker died) is
#: swept after this grace period.
SUCCESS_GRACE_SECONDS = 600.0
#: How long a successful task waits for the HistoryServer to archive the job before deleting the resource.
ARCHIVE_WAIT_SECONDS = 30.0
#: Asking a JobManager that may not be up yet is an enrichment: do not wait long for it.
REST_RETRY_BUDGET = 10.0


class KubernetesTarget:
    """Runs each job attempt as a FlinkDeployment or FlinkSessionJob and follows its status."""

    kind = "kubernetes"
    #: Seconds a resource whose create answer was lost is looked for (see :mod:`..targets.lost_answer`).
    lost_answer_grace = LOST_ANSWER_GRACE

    def __init__(
        self,
        options: KubernetesTargetOptions,
        conn_id: str,
        resources: FlinkResources,
        flink_settings: FlinkConnectionSettings | None = None,
    ) -> None:
        self.options = options
        self.conn_id = conn_id  # the flink_batch connection: HistoryServer, archive dir, REST auth/TLS
        self.resources = resources
        self.flink_settings = flink_settings
        self.plural = resources.plural
        #: Per resource: the Flink job id the operator reports (a FlinkSessionJob's is the operator's choice)
        #: and the clock of a stalled status (bounded waits, see ``kubernetes.state``).
        self._flink_ids: dict[str, str] = {}
        self._stalls: dict[str, StallWatch] = {}
        self._searched: set[str] = set()

    @classmethod
    def from_connections(cls, flink_conn_id: str, options: KubernetesTargetOptions) -> KubernetesTarget:
        plural = m.SESSION_JOB[1] if options.mode == "session" else m.DEPLOYMENT[1]
        resources = FlinkResources.from_connection(options.kubernetes_conn_id, options.namespace, plural)
        try:
            settings: FlinkConnectionSettings | None = FlinkRestHook(flink_conn_id).settings
        except FlinkConnectionError:
            log.info("No %r connection: no HistoryServer link, archive dir or REST credentials", flink_conn_id)
            settings = None
        return cls(options, flink_conn_id, resources, settings)

    # ------------------------------------------------------------------ naming
    def describe(self) -> str:
        where = f"namespace {self.options.namespace}"
        if self.options.mode == "session":
            return f"FlinkSessionJob on session deployment {self.options.session_deployment} ({where})"
        return f"FlinkDeployment (application mode, {where})"

    def render(self, request: JobRequest) -> m.Manifests:
        archive_dir = self.flink_settings.archive_dir if self.flink_settings else None
        return m.render(request, self.options, archive_dir=archive_dir)

    def handle_for(self, job_id: str, request: JobRequest | None = None) -> JobHandle:
        attempt = request.identity.candidate_job_ids().get(job_id) if request is not None else None
        if request is not None and attempt is not None:
            name = m.resource_name(request.identity, attempt, self.options.name_prefix)
            return self._handle(job_id, name)
        found = self.resources.list(f"{m.owned_selector()},{m.JOB_ID_LABEL}={job_id}")
        found_name: str | None = found[0]["metadata"]["name"] if found else None
        ref = self._ref(found_name) if found_name else None
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id, ref=ref)

    def _ref(self, name: str) -> str:
        return f"{self.options.namespace}/{name}"

    def _handle(self, job_id: str, name: str) -> JobHandle:
        return JobHandle(target=self.kind, conn_id=self.conn_id, job_id=job_id, ref=self._ref(name))

    @staticmethod
    def _name(handle: JobHandle) -> str:
        if not handle.ref:
            raise FlinkNotFoundError(f"no Kubernetes resource is known for Flink job {handle.job_id}", url="kubernetes")
        return handle.ref.split("/", 1)[1]

    def resource(self, handle: JobHandle) -> dict[str, Any]:
        """The custom resource of a handle (``FlinkNotFoundError`` when it is gone)."""
        name = self._name(handle)
        found = self.resources.get(name)
        if found is None:
            raise FlinkNotFoundError(
                f"{self.plural} {self.options.namespace}/{name} of Flink job {handle.job_id} no longer exists",
                url="kubernetes",
                status=404,
            )
        return found

    # ------------------------------------------------------------------ submit / find
    def submit(self, request: JobRequest) -> JobHandle:
        try:
            manifests = self.render(request)
        except m.ManifestError as err:
            raise SubmissionRejected(str(err), sql_error=False) from err
        self.sweep()
        try:
            self.resources.create(manifests.custom_resource, manifests.owned_by)
        except ResourceExists as err:
            exists = f"{manifests.kind} {manifests.ref} exists"
            raise SubmissionRejected(exists, sql_error=False, duplicate=True) from err
        except ResourceRefused as err:
            raise SubmissionRejected(
                f"Kubernetes refused {manifests.kind} {manifests.ref}: {err}", sql_error=False
            ) from err
        except ResourceAnswerLost as err:
            return self._after_lost_answer(request, manifests, err)
        log.info("Created %s %s (Flink job %s)", manifests.kind, manifests.ref, request.job_id)
        return self._handle(request.job_id, manifests.name)

    def _after_lost_answer(self, request: JobRequest, manifests: m.Manifests, err: ResourceAnswerLost) -> JobHandle:
        """The create may have stored the resource although its answer was lost: its name is known, so look."""
        what = f"{manifests.kind} {manifests.ref}"
        log.warning("No answer from the Kubernetes API server to creating %s (%s): looking it up", what, err)
        try:
            found = look_again(lambda: self.resources.look_up(manifests.name), self.lost_answer_grace)
        except ResourceAnswerLost as lookup:
            raise SubmissionAnswerLost(
                f"the Kubernetes API server's answer to creating {what} was lost ({err}) and it could not be asked "
                f"whether the resource exists ({lookup}); the next try looks for it before creating it again"
            ) from lookup
        if found is None:
            raise SubmissionAnswerLost(
                f"the Kubernetes API server's answer to creating {what} was lost and it has no such resource "
                f"(looked for {self.lost_answer_grace:g}s): {err}. Nothing runs for this try; the next try looks "
                "for the resource again before creating it"
            )
        if (found.get("metadata", {}).get("labels") or {}).get(m.JOB_ID_LABEL) != request.job_id:
            raise SubmissionRejected(f"{what} exists", sql_error=False, duplicate=True)
        self.resources.create_owned(found["metadata"]["uid"], manifests.owned_by)  # the create never got to them
        log.warning(
            "%s exists although the answer to creating it was lost: following it (Flink job %s)", what, request.job_id
        )
        return self._handle(request.job_id, manifests.name)

    def find_existing(self, identity: JobIdentity) -> list[ExistingJob]:
        """Resources labelled with this task instance's identity (state from ``.status``), plus attempts
        whose resource is gone (deleted after success) but which the HistoryServer archived."""
        found = self._existing_resources(identity)
        known = {job.handle.job_id for job in found}
        found += [job for job in self._archived(identity) if job.handle.job_id not in known]
        return sorted(found, key=lambda job: job.attempt)

    def _archived(self, identity: JobIdentity) -> list[ExistingJob]:
        """Without this, a worker dying between deleting a finished resource and recording success would
        make the retry run the job again."""
        client = self._history_client()
        if client is None:
            return []
        found = []
        # A FlinkSessionJob ran under the operator's id: found by its identity parameters, not by id.
        by_parameters = self.options.mode == "session"
        try:
            source = RestJobSource("historyserver", client)
            for job in listed_attempts(source, identity.candidate_job_ids(), by_parameters=by_parameters):
                name = m.resource_name(identity, job.attempt, self.options.name_prefix)
                if job.flink_job_id:
                    self._flink_ids[self._ref(name)] = job.flink_job_id
                found.append(
                    ExistingJob(
                        handle=self._handle(job.job_id, name),
                        attempt=job.attempt,
                        state=job.state,
                        fingerprint=job.fingerprint,
                        deployment=job.deployment,
                    )
                )
        except FlinkRestError as err:  # the HistoryServer is a fallback: its outage must not block submissions
            log.warning("HistoryServer not reachable while looking for earlier attempts: %s", err)
        finally:
            client.close()
        return found

    def _existing_resources(self, identity: JobIdentity) -> list[ExistingJob]:
        found = []
        for item in self.resources.list(m.selector(identity)):
            meta = item["metadata"]
            labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
            try:
                attempt = int(labels.get(m.ATTEMPT_LABEL, ""))
            except ValueError:
                continue
            job_id = labels.get(m.JOB_ID_LABEL) or identity.job_id(attempt)
            found.append(
                ExistingJob(
                    handle=self._handle(job_id, meta["name"]),
                    attempt=attempt,
                    state=ResourceState.of(item).state,
                    fingerprint=annotations.get(m.FINGERPRINT_ANNOTATION),
                )
            )
        return found

    def job_fingerprint(self, handle: JobHandle) -> str | None:
        try:
            annotations = self.resource(handle)["metadata"].get("annotations") or {}
            return annotations.get(m.FINGERPRINT_ANNOTATION)
        except FlinkNotFoundError:
            config = self._archived_or_raise(handle, calls.job_config(self.flink_id(handle)))
            user_config = (config.get("execution-config") or {}).get("user-config") or {}
            fingerprint = user_config.get(f"{PARAM_PREFIX}fingerprint")
            return str(fingerprint) if fingerprint is not None else None

    def flink_id(self, handle: JobHandle, resource: dict[str, Any] | None = None, *, search: bool = True) -> str:
        """The id Flink knows the job by: ``.status.jobStatus.jobId`` (read once), else the handle's. Once the
        resource is gone (``search``): found by the job's identity parameters (:meth:`_gone_flink_id`)."""
        ref = str(handle.ref or "") or handle.job_id
        if ref not in self._flink_ids:
            if resource is None and handle.ref:
                try:
                    resource = self.resource(handle)
                except FlinkNotFoundError:
                    resource = None
            found: str | None = None
            if resource is not None:
                found = flink_job_id(resource, "")
            elif search and ref not in self._searched:
                self._searched.add(ref)  # one search per handle: a job no source knows stays unknown
                found = self._gone_flink_id(handle)
            if not found:
                return handle.job_id
            self._flink_ids[ref] = found
        return self._flink_ids.get(ref, handle.job_id)

    def _gone_flink_id(self, handle: JobHandle) -> str | None:
        """The id Flink ran a job under once its resource is gone. A FlinkDeployment's is the provider's; a
        FlinkSessionJob's was the operator's choice: the JobManager / HistoryServer find it by the job's identity
        parameters (the one lookup chain), so a finished job is reported as it ended, not as unknown."""
        if self.options.mode != "session":
            return None
        sources, clients = self._sources(handle)
        try:
            source, found = JobLookup(sources).find_provider_job(handle.job_id)
        finally:
            for client in clients:
                client.close()
        if found:
            gone = handle.ref or "FlinkSessionJob"
            log.info("Flink job %s of the deleted %s ran as %s (found in %r)", handle.job_id, gone, found, source)
        return found

    def _archived_or_raise(self, handle: JobHandle, call: calls.ApiCall[dict[str, Any]]) -> dict[str, Any]:
        """For a job whose resource is gone: Flink's answer (JobManager if it still runs, HistoryServer)."""
        answer = self._from_flink(handle, call)
        if answer is None:
            raise FlinkNotFoundError(
                f"Flink job {self.flink_id(handle)}: its resource {handle.ref} is gone and no HistoryServer "
                "knows the job",
                url="kubernetes",
                status=404,
            )
        return answer

    # ------------------------------------------------------------------ job facts
    def rest_settings(self, handle: JobHandle) -> FlinkConnectionSettings | None:
        """The JobManager's REST API (``rest_url_template``), with the flink connection's auth and TLS."""
        if not handle.ref:
            return None
        name = self._name(handle)
        job_id = self.flink_id(handle, search=False)  # (searching asks this JobManager too)
        url = self.options.url(self.options.rest_url_template, name=name, job_id=job_id)
        if url is None:
            return None
        if self.flink_settings is None:
            return FlinkConnectionSettings(rest_url=url)
        return self.flink_settings.model_copy(update={"rest_url": url})

    def _rest_client(self, handle: JobHandle) -> FlinkRestClient | None:
        settings = self.rest_settings(handle)
        return FlinkRestClient(settings, RetryPolicy(budget=REST_RETRY_BUDGET)) if settings else None

    def _history_client(self) -> FlinkRestClient | None:
        settings = self.flink_settings.for_history_server() if self.flink_settings else None
        return FlinkRestClient(settings, RetryPolicy(budget=REST_RETRY_BUDGET)) if settings else None

    def _sources(self, handle: JobHandle) -> tuple[list[RestJobSource], list[FlinkRestClient]]:
        """The lookup chain's sources for this job, JobManager first, and their clients (the caller closes them)."""
        named = [("jobmanager", self._rest_client(handle)), ("historyserver", self._history_client())]
        present = [(name, client) for name, client in named if client is not None]
        return [RestJobSource(name, client) for name, client in present], [client for _, client in present]

    def _from_flink(self, handle: JobHandle, call: calls.ApiCall[dict[str, Any]]) -> dict[str, Any] | None:
        """Ask the JobManager, then the HistoryServer; ``None`` if neither knows (or is reachable)."""
        sources, clients = self._sources(handle)
        try:
            source, answer, tried = JobLookup(sources).first(call.path)
        finally:
            for client in clients:
                client.close()
        if source is None:
            log.debug("Flink job %s: %s", handle.job_id, "; ".join(tried))
            return None
        return call.parse(answer)

    def job_details(self, handle: JobHandle) -> dict[str, Any]:
        try:
            resource = self.resource(handle)
        except FlinkNotFoundError:
            return self._archived_or_raise(handle, calls.job_details(self.flink_id(handle)))
        observed = self._observe(handle, resource)
        job_id = self.flink_id(handle, resource)
        flink = self._from_flink(handle, calls.job_details(job_id)) if observed.jobmanager_may_answer else None
        return observed.job_details(resource, job_id, flink)

    def _observe(self, handle: JobHandle, resource: dict[str, Any]) -> ResourceState:
        """The resource's state, a stall past ``stall_grace`` read as FAILED (the same clock for the handle)."""
        watch = self._stalls.setdefault(str(handle.ref), StallWatch(self.options.stall_grace))
        return watch.check(ResourceState.of(resource), time.monotonic())

    def job_exceptions(self, handle: JobHandle) -> dict[str, Any]:
        return self._from_flink(handle, calls.job_exceptions(self.flink_id(handle))) or {}

    def job_accumulators(self, handle: JobHandle) -> dict[str, Any]:
        """The runner's rows-written counters (the HistoryServer's copy once the deployment is gone)."""
        return self._from_flink(handle, calls.job_accumulators(self.flink_id(handle))) or {}

    def cancel(self, handle: JobHandle) -> None:
        """Suspend the resource: the operator cancels the job and keeps the resource (see module doc)."""
        self.resources.patch(
            self._name(handle),
            {**SUSPEND, "metadata": {"annotations": {m.FINISHED_AT_ANNOTATION: _now()}}},
        )
        log.info("Suspended %s %s: the operator cancels Flink job %s", self.plural, handle.ref, handle.job_id)

    # ------------------------------------------------------------------ waiting, links, diagnosis
    def trigger(self, handle: JobHandle, wait: WaitOptions) -> BaseTrigger:
        settings = self.rest_settings(handle)
        return FlinkKubernetesTrigger(
            job_id=handle.job_id,
            stall_grace=self.options.stall_grace,
            ref=str(handle.ref),
            plural=self.plural,
            kubernetes_conn_id=self.options.kubernetes_conn_id,
            flink_conn_id=self.conn_id if self.flink_settings is not None else None,
            rest_url=settings.rest_url if settings else None,
            **wait.model_dump(),
        )

    def link_info(self, handle: JobHandle) -> dict[str, Any]:
        """The JobManager this target asks (``rest_url``, ``rest_url_template``) is also what the task's view asks
        and, without a ``ui_url_template``, what the Flink UI link opens (the REST port serves the web UI);
        ``flink_job_id``: the id Flink runs the job under when it is not the provider's (a FlinkSessionJob's)."""
        name = self._name(handle) if handle.ref else ""
        job_id = self.flink_id(handle) if handle.ref else handle.job_id
        ui = self.options.url(self.options.ui_url_template, name=name, job_id=job_id)
        rest = self.rest_settings(handle)
        info = {
            "web_ui_url": ui or (rest.rest_url if rest else None),
            "rest_url": rest.rest_url if rest else None,
            "history_server_url": self.flink_settings.history_server_url if self.flink_settings else None,
            "kubernetes_resource": f"{self.plural}/{handle.ref}",
        }
        return info | ({"flink_job_id": job_id} if job_id != handle.job_id else {})

    def diagnose(self, handle: JobHandle, state: str, retry_on: dict[str, bool] | None) -> Diagnosis:
        """Deployment failures: the operator's ``status.error``. Job failures: Flink's root cause
        (JobManager, HistoryServer, archive), else ``status.error``."""
        try:
            resource = self.resource(handle)
            observed: ResourceState | None = self._observe(handle, resource)
        except FlinkNotFoundError:
            observed = None
        job_id = self.flink_id(handle)
        if observed is None or not observed.deployment_failed:
            try:
                include_jobmanager = self.options.rest_url_template is not None
                diagnosis: Diagnosis = _history_hook(self, handle).diagnose(
                    job_id, include_jobmanager=include_jobmanager, retry_on=retry_on
                )
                return diagnosis
            except (JobHistoryNotFound, FlinkRestError) as err:
                tried = str(err)
        else:
            tried = "the deployment failed before Flink ran the job"
        if observed is not None and not observed.terminal and observed.stalled:
            # The trigger gave up on a stall (its own clock): say why, as it did.
            observed = observed.timed_out(self.options.stall_grace)
        if observed is not None and observed.error:
            found = diagnose_submission(job_id, observed.error, retry_on)
            update: dict[str, Any] = {"source": f"kubernetes {handle.ref}", "state": state, "sources_tried": [tried]}
            if observed.deployment_failed or observed.stalled:  # the operator's cause, not Flink's: the state knows
                update["retryable"] = observed.retryable if retry_on is None else found.retryable
            return found.model_copy(update=update)
        return diagnose_unknown(job_id, state, tried, retry_on)

    # ------------------------------------------------------------------ cleanup
    def after_terminal(self, handle: JobHandle, state: str) -> None:
        """Called by the operator once the outcome is known: delete after success, else mark for later."""
        if not handle.ref:
            return
        name = self._name(handle)
        if is_success(state) and self.options.delete_after_success and self._archived_job(handle):
            self._delete(name)
            return
        if is_success(state) and self.options.delete_after_success:
            log.info(
                "Keeping %s %s until a later submission sweeps it (%.0f min): no HistoryServer has the job yet, "
                "and the resource is what proves to a retry that the job already FINISHED",
                self.plural,
                handle.ref,
                SUCCESS_GRACE_SECONDS / 60,
            )
        self.resources.patch(name, {"metadata": {"annotations": {m.FINISHED_AT_ANNOTATION: _now()}}})

    def _archived_job(self, handle: JobHandle, timeout: float = ARCHIVE_WAIT_SECONDS) -> bool:
        """Whether the HistoryServer has archived the job (waiting up to ``timeout`` for its refresh)."""
        client = self._history_client()
        if client is None:
            return False

        def archived() -> bool | None:
            try:
                client.call(calls.job_details(self.flink_id(handle)))
                return True
            except FlinkRestError:
                return None

        try:
            return look_again(archived, timeout) is not None
        finally:
            client.close()

    def sweep(self, now: float | None = None) -> list[str]:
        """Delete this provider's finished resources past their keep time (namespace-wide, best effort)."""
        now = time.time() if now is None else now
        deleted: list[str] = []
        try:
            items = self.resources.list(m.owned_selector())
        except Exception as err:  # cleanup must never block a submission
            log.warning("Could not list %s for cleanup: %s", self.plural, err)
            return deleted
        for item in items:
            observed = ResourceState.of(item)
            if not observed.terminal:
                continue
            keep = (
                SUCCESS_GRACE_SECONDS
                if observed.succeeded and self.options.delete_after_success
                else self.options.keep_failed_hours * 3600
            )
            if now - _finished_at(item) >= keep:
                self._delete(item["metadata"]["name"])
                deleted.append(item["metadata"]["name"])
        return deleted

    def _delete(self, name: str) -> None:
        """Delete one of OUR resources and its SQL ConfigMap; anything without our label is left alone."""
        item = self.resources.get(name)
        if item is None:
            return
        if (item["metadata"].get("labels") or {}).get(m.MANAGED_BY_LABEL) != m.MANAGED_BY:
            log.warning("Not deleting %s %s: it was not created by this provider", self.plural, name)
            return
        self.resources.delete(name)
        log.info("Deleted %s %s/%s", self.plural, self.options.namespace, name)


def _history_hook(target: KubernetesTarget, handle: JobHandle) -> FlinkHistoryServerHook:
    """``FlinkHistoryServerHook`` whose "JobManager" is this resource's (``rest_url_template``)."""
    settings = target.rest_settings(handle) or target.flink_settings or FlinkConnectionSettings(rest_url="http://none")
    return FlinkHistoryServerHook(target.conn_id, settings=settings)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _finished_at(item: dict[str, Any]) -> float:
    """When the resource's job ended: our annotation, else the operator's last job update, else creation."""
    meta = item["metadata"]
    stamp = (meta.get("annotations") or {}).get(m.FINISHED_AT_ANNOTATION)
    if stamp:
        try:
            return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
        except ValueError:
            pass
    update = ((item.get("status") or {}).get("jobStatus") or {}).get("updateTime")
    try:
        return int(str(update)) / 1000
    except (TypeError, ValueError):
        pass
    created = meta.get("creationTimestamp")
    if isinstance(created, datetime):
        return created.timestamp()
    try:
        return datetime.strptime(str(created), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return 0.0
