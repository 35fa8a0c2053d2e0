"""FlinkKubernetesBatchSensor: wait for the batch job of any FlinkDeployment / FlinkSessionJob, by name.

``apache-airflow-providers-apache-flink``'s ``FlinkKubernetesSensor`` succeeds once
``jobManagerDeploymentStatus`` is READY: for a batch job that is the moment the JobManager came up, before the
job ran (and a FAILED job keeps a READY JobManager), and it fails on MISSING, which a new deployment shows
before its first deploy. This sensor reads the resource with the Kubernetes backend's one status reader
(:class:`~airflow_provider_flinkbatch.kubernetes.state.ResourceState`): success only when the job FINISHED,
failure with the provider's diagnosis (Flink's root cause from the JobManager / HistoryServer / archive, else
the operator's ``status.error``), a suspended job as cancelled, a stall (JobManager never READY, submission
retried for ever) failed after ``stall_grace``. Deferrable mode waits with the same
:class:`~airflow_provider_flinkbatch.triggers.kubernetes.FlinkKubernetesTrigger` the operator uses.

The resource is not the sensor's: it never suspends, deletes or annotates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import Context
from airflow.sdk.configuration import conf
from airflow.sdk.exceptions import AirflowException, AirflowFailException
from airflow.triggers.base import BaseTrigger

from airflow_provider_flinkbatch.diagnosis import check_retry_on
from airflow_provider_flinkbatch.failures import raise_for_failed_job
from airflow_provider_flinkbatch.jobs import summarize_job
from airflow_provider_flinkbatch.kubernetes.options import WatchOptions
from airflow_provider_flinkbatch.kubernetes.state import flink_job_id
from airflow_provider_flinkbatch.kubernetes.target import KubernetesTarget
from airflow_provider_flinkbatch.links.urls import job_links
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError
from airflow_provider_flinkbatch.rest.settings import DEFAULT_CONN_ID
from airflow_provider_flinkbatch.sensors.base import FlinkJobWaitSensor
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.targets.base import JobHandle, WaitOptions

#: The handle's job id until the operator reports ``.status.jobStatus.jobId`` (every Flink call uses that one).
NOT_YET_KNOWN = "0" * 32


class FlinkKubernetesBatchSensor(FlinkJobWaitSensor):
    """Wait until the Flink job of the custom resource ``application_name`` is over; fail unless it FINISHED.

    :param application_name: the FlinkDeployment's (or FlinkSessionJob's) name (templated), e.g. the one in
        the ``application_file`` of the upstream ``FlinkKubernetesOperator``.
    :param namespace: its namespace (templated).
    :param kind: ``"FlinkDeployment"`` (default) or ``"FlinkSessionJob"``.
    :param kubernetes_conn_id: Airflow Kubernetes connection (cncf-kubernetes).
    :param flink_conn_id: ``flink_batch`` connection whose HistoryServer / ``archive_dir`` explain failures and
        answer after the JobManager is gone (optional: without it, the diagnosis is the operator's ``status.error``).
    :param rest_url_template: the JobManager REST URL reachable from Airflow (``http://{name}-rest.{namespace}:8081``):
        progress, the summary's vertices and Flink's root cause while the JobManager runs.
    :param stall_grace: seconds a state the operator can keep for ever may last before the sensor fails.
    :param retry_on: override per failure category whether a retry of the task is worth it (see docs/diagnosis.md).
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
    :return: (XCom) the job summary, as :class:`~airflow_provider_flinkbatch.operators.sql.FlinkBatchSqlOperator`.
    """

    template_fields: Sequence[str] = ("application_name", "namespace")
    ui_color = "#e6f1f2"

    def __init__(
        self,
        *,
        application_name: str,
        namespace: str = "default",
        kind: str = "FlinkDeployment",
        kubernetes_conn_id: str = "kubernetes_default",
        flink_conn_id: str = DEFAULT_CONN_ID,
        rest_url_template: str | None = None,
        stall_grace: float = 600.0,
        retry_on: dict[str, bool] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.application_name, self.namespace, self.kind = application_name, namespace, kind
        self.kubernetes_conn_id, self.flink_conn_id = kubernetes_conn_id, flink_conn_id
        self.rest_url_template, self.stall_grace = rest_url_template, stall_grace
        self.retry_on = check_retry_on(retry_on)
        self.deferrable = deferrable
        if "{{" not in application_name + namespace:  # a bad name or template fails the DAG import
            self._watch()
        self._summary: dict[str, Any] | None = None
        self._built: tuple[KubernetesTarget, JobHandle] | None = None

    def _watch(self) -> WatchOptions:
        try:
            return WatchOptions(
                kubernetes_conn_id=self.kubernetes_conn_id,
                namespace=self.namespace,
                name=self.application_name,
                kind=self.kind,  # type: ignore[arg-type]  # validated here
                rest_url_template=self.rest_url_template,
                stall_grace=self.stall_grace,
            )
        except ValueError as err:
            raise ValueError(f"{self.task_id}: {err}") from None

    def _target(self) -> tuple[KubernetesTarget, JobHandle]:
        """The Kubernetes backend, watching (built once per task run: one connection lookup, one clock)."""
        if self._built is None:
            watch = self._watch()
            target = KubernetesTarget.from_connections(self.flink_conn_id, watch.target_options())
            ref = f"{watch.namespace}/{watch.name}"
            self._built = (
                target,
                JobHandle(target=target.kind, conn_id=self.flink_conn_id, job_id=NOT_YET_KNOWN, ref=ref),
            )
        return self._built

    def poke(self, context: Context) -> bool:
        target, handle = self._target()
        try:
            resource = target.resource(handle)
        except FlinkNotFoundError as err:
            raise AirflowFailException(
                f"{self.kind} {handle.ref} does not exist: check application_name and namespace (the upstream "
                f"FlinkKubernetesOperator creates it under metadata.name of its application_file) ({err})"
            ) from None
        handle = self._with_job_id(handle, flink_job_id(resource, NOT_YET_KNOWN))
        details = target.job_details(handle)
        state = JobState.of(str(details["state"]), handle.job_id)
        if state.running:
            self.log.info("%s %s: %s", self.kind, handle.ref, state.message)
            return False
        self._summary = self._finish(context, summarize_job(details).model_dump())
        return True

    def _with_job_id(self, handle: JobHandle, job_id: str) -> JobHandle:
        if job_id != handle.job_id:
            handle = handle.model_copy(update={"job_id": job_id})
            self._built = self._target()[0], handle
        return handle

    def _finish(self, context: Context, summary: dict[str, Any]) -> dict[str, Any]:
        target, handle = self._target()
        if JobState.of(summary["state"]).succeeded:
            self.log.info("Flink job %s of %s %s FINISHED", handle.job_id, self.kind, handle.ref)
            return summary
        diagnosis = target.diagnose(handle, summary["state"], self.retry_on)
        raise_for_failed_job(self.log, context, diagnosis, links=job_links(target.link_info(handle), handle.job_id))

    def wait_trigger(self) -> BaseTrigger:
        target, handle = self._target()
        return target.trigger(handle, WaitOptions(poll_interval=self.poke_interval, cancel_on_kill=False))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") != "terminal":
            raise AirflowException(f"Lost track of {self.kind} {event.get('ref')}: {event.get('message')}")
        self._with_job_id(self._target()[1], str(event.get("flink_job_id") or NOT_YET_KNOWN))
        return self._finish(context, event["summary"])
