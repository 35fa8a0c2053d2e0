"""An emulator of the Flink Kubernetes Operator, running against the real kube-apiserver of the tests.

It watches (polls) FlinkDeployment and FlinkSessionJob objects in one namespace and does what the
operator and the kubelet would do, with the REAL local Flink session cluster underneath:

* "pull the image": images in ``bad_images`` fail like ImagePullBackOff (jobManagerDeploymentStatus
  ERROR, lifecycleState FAILED, ``status.error`` = the operator's JSON error);
* "mount the ConfigMap": a ``--statements-file`` under a ConfigMap volume of the JobManager pod
  template is materialized from the ConfigMap's data (waiting for it, like the kubelet);
* "run the application": ``local://`` runner jar -> ``POST /jars/<id>/run`` with the resource's entry
  class, args, ``flinkConfiguration`` and the ``$internal.pipeline.job-id`` job id;
* write ``.status`` (status subresource) like the operator: job id before deploying, lifecycleState
  CREATED -> DEPLOYED -> STABLE, jobManagerDeploymentStatus DEPLOYING -> READY, jobStatus.state
  following Flink, ``error`` with the root cause when the job fails or the submission is refused;
* ``spec.job.state: suspended`` cancels the Flink job (stateless upgrade mode): lifecycleState
  SUSPENDED, jobStatus CANCELED, JobManager MISSING; deleting a resource cancels its running job.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger(__name__)
GROUP, VERSION = "flink.apache.org", "v1beta1"
PLURALS = ("flinkdeployments", "flinksessionjobs")
RUNNER_JAR_URI = "local:///opt/flink/usrlib/flinkbatch-sql-runner.jar"
TERMINAL = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}


@dataclass
class Tracked:
    job_id: str
    state: str = "RECONCILING"
    deployment: bool = True
    suspended: bool = False


@dataclass
class OperatorEmulator:
    api_client: Any
    namespace: str
    flink_rest_url: str
    runner_jar_id: str
    staging_dir: Path
    bad_images: set[str] = field(default_factory=lambda: {"registry.invalid/flink:missing"})
    interval: float = 0.3
    tracked: dict[tuple[str, str, str], Tracked] = field(default_factory=dict)
    #: Every (plural, name, job id, state) the emulator wrote, in order: what the tests report.
    history: list[tuple[str, str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        from kubernetes import client

        self.objects = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flink-operator-emulator", daemon=True)
        self.errors: list[str] = []

    def start(self) -> OperatorEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    # ------------------------------------------------------------------ loop
    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile_all()
            except Exception as err:  # keep emulating; the tests see errors in self.errors
                log.exception("emulator")
                self.errors.append(repr(err))
            self._stop.wait(self.interval)

    def reconcile_all(self) -> None:
        seen = set()
        for plural in PLURALS:
            items = self.objects.list_namespaced_custom_object(GROUP, VERSION, self.namespace, plural)["items"]
            for item in items:
                key = (plural, item["metadata"]["name"], item["metadata"]["uid"])
                seen.add(key)
                self.reconcile(plural, item, key)
        for key in list(self.tracked):
            if key not in seen:  # deleted: the operator's finalizer stops what runs
                tracked = self.tracked.pop(key)
                if tracked.state not in TERMINAL:
                    self._flink("PATCH", f"/jobs/{tracked.job_id}?mode=cancel")

    # ------------------------------------------------------------------ one resource
    def reconcile(self, plural: str, listed: dict[str, Any], key: tuple[str, str, str]) -> None:
        name = listed["metadata"]["name"]
        item = self._get(plural, name)  # fresh: a spec change must not be missed behind a stale list
        if item is None or item["metadata"]["uid"] != key[2]:
            return
        spec, status = item["spec"], item.get("status") or {}
        tracked = self.tracked.get(key)
        if plural == "flinkdeployments" and "job" not in spec:  # a session cluster: just "running"
            if status.get("jobManagerDeploymentStatus") != "READY":
                self._status(plural, name, {"lifecycleState": "STABLE", "jobManagerDeploymentStatus": "READY"})
            return
        if tracked is None:
            if status.get("lifecycleState") in ("FAILED", "SUSPENDED"):
                return
            if spec["job"].get("state") == "suspended":  # created suspended: the operator deploys nothing
                self._status(plural, name, {"lifecycleState": "SUSPENDED"})
                return
            self._deploy(plural, item, key)
            return
        if spec["job"].get("state") == "suspended" and not tracked.suspended:
            tracked.suspended = True
            if tracked.state not in TERMINAL:
                # Like the operator's stateless suspend: cancel, and wait until Flink confirms.
                self._flink("PATCH", f"/jobs/{tracked.job_id}?mode=cancel")
                deadline = time.monotonic() + 30
                while tracked.state not in TERMINAL and time.monotonic() < deadline:
                    tracked.state = str((self._flink("GET", f"/jobs/{tracked.job_id}") or {}).get("state"))
                    time.sleep(0.1)
            update: dict[str, Any] = {"lifecycleState": "SUSPENDED", "jobStatus": {"state": tracked.state}}
            if tracked.deployment:
                update["jobManagerDeploymentStatus"] = "MISSING"
            self._status(plural, name, update, tracked.job_id)
            return
        if tracked.state in TERMINAL:
            return
        details = self._flink("GET", f"/jobs/{tracked.job_id}")
        state = str(details.get("state")) if details else tracked.state
        if state == tracked.state:
            return
        tracked.state = state
        update = {
            "lifecycleState": "STABLE" if state in ("RUNNING", "FINISHED") else "DEPLOYED",
            "jobStatus": {"state": state, "updateTime": str(int(time.time() * 1000))},
        }
        if state == "FAILED":
            update["lifecycleState"] = "FAILED"
            update["error"] = self._job_error(tracked.job_id)
        self._status(plural, name, update, tracked.job_id)

    def _deploy(self, plural: str, item: dict[str, Any], key: tuple[str, str, str]) -> None:
        spec, name = item["spec"], item["metadata"]["name"]
        config = {str(k): str(v) for k, v in (spec.get("flinkConfiguration") or {}).items()}
        job_id = config.pop("$internal.pipeline.job-id", None) or "0" * 32
        deployment = plural == "flinkdeployments"
        if deployment and spec.get("image") in self.bad_images:
            self._status(
                plural,
                name,
                {
                    "lifecycleState": "FAILED",
                    "jobManagerDeploymentStatus": "ERROR",
                    "error": json.dumps(
                        {
                            "type": "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException",
                            "message": f'Back-off pulling image "{spec["image"]}"',
                            "additionalMetadata": {"reason": "ImagePullBackOff"},
                            "throwableList": [],
                        }
                    ),
                },
            )
            return
        if not deployment:
            session = self._get("flinkdeployments", spec["deploymentName"])
            if session is None:
                return  # the real operator waits for the session cluster, too
        args = self._mounted_args(item, list(spec["job"].get("args") or []))
        if args is None:
            return  # ConfigMap not there yet: the kubelet retries the mount
        self.tracked[key] = tracked = Tracked(job_id=job_id, deployment=deployment)
        self._status(
            plural,
            name,
            {
                "lifecycleState": "DEPLOYED",
                "jobManagerDeploymentStatus": "DEPLOYING",
                "jobStatus": {"jobId": job_id, "state": "RECONCILING"},
            },
            job_id,
        )
        if spec["job"].get("jarURI") != RUNNER_JAR_URI:
            tracked.state = "FAILED"
            self._status(
                plural,
                name,
                {
                    "lifecycleState": "FAILED",
                    "jobManagerDeploymentStatus": "ERROR",
                    "error": json.dumps(
                        {
                            "type": "java.io.FileNotFoundException",
                            "message": f"{spec['job'].get('jarURI')} not found in the image",
                        }
                    ),
                },
                job_id,
            )
            return
        body: dict[str, Any] = {
            "entryClass": spec["job"].get("entryClass"),
            "programArgsList": args,
            "jobId": job_id,
            "flinkConfiguration": config,
        }
        if spec["job"].get("parallelism"):
            body["parallelism"] = spec["job"]["parallelism"]
        answer = requests.post(f"{self.flink_rest_url}/jars/{self.runner_jar_id}/run", json=body, timeout=60)
        if answer.status_code != 200:
            from airflow_provider_flinkbatch.jobs import submission_failure_message

            errors = answer.json().get("errors") or [answer.text]
            tracked.state = "FAILED"
            # With execution.submit-failed-job-on-application-error (set by the operator), a failing
            # main() becomes a FAILED job with the fixed id; status.error holds the exception.
            self._status(
                plural,
                name,
                {
                    "lifecycleState": "FAILED",
                    "jobManagerDeploymentStatus": "READY",
                    "jobStatus": {"state": "FAILED", "updateTime": str(int(time.time() * 1000))},
                    "error": json.dumps(
                        {
                            "type": "org.apache.flink.client.program.ProgramInvocationException",
                            "message": submission_failure_message(errors),
                            "throwableList": [],
                        }
                    ),
                },
                job_id,
            )
            return
        self._status(
            plural,
            name,
            {
                "jobManagerDeploymentStatus": "READY",
                "jobStatus": {"jobName": config.get("pipeline.name", ""), "startTime": str(int(time.time() * 1000))},
            },
            job_id,
        )

    def _mounted_args(self, item: dict[str, Any], args: list[str]) -> list[str] | None:
        """Replace a ``--statements-file`` in a ConfigMap volume by a local copy of the ConfigMap's data."""
        if "--statements-file" not in args:
            return args
        index = args.index("--statements-file") + 1
        path = args[index]
        pod = ((item["spec"].get("jobManager") or {}).get("podTemplate") or {}).get("spec") or {}
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for container in pod.get("containers") or []:
            for mount in container.get("volumeMounts") or []:
                prefix = mount["mountPath"].rstrip("/") + "/"
                volume = volumes.get(mount["name"]) or {}
                if path.startswith(prefix) and "configMap" in volume:
                    from kubernetes.client.exceptions import ApiException

                    try:
                        config_map = self.core.read_namespaced_config_map(volume["configMap"]["name"], self.namespace)
                    except ApiException as err:
                        if err.status == 404:
                            return None
                        raise
                    local = self.staging_dir / item["metadata"]["uid"] / path[len(prefix) :]
                    local.parent.mkdir(parents=True, exist_ok=True)
                    local.write_text(config_map.data[path[len(prefix) :]])
                    return [*args[:index], str(local), *args[index + 1 :]]
        raise AssertionError(f"{path} is not in a ConfigMap volume of the JobManager pod template")

    # ------------------------------------------------------------------ helpers
    def _job_error(self, job_id: str) -> str:
        from airflow_provider_flinkbatch.jobs import root_cause_from_exceptions

        cause = root_cause_from_exceptions(self._flink("GET", f"/jobs/{job_id}/exceptions") or {})
        if cause is None:
            return json.dumps({"type": "org.apache.flink.runtime.JobException", "message": "Job failed"})
        return json.dumps({"type": cause.exception_class, "message": cause.message, "throwableList": []})

    def _flink(self, method: str, path: str) -> dict[str, Any] | None:
        answer = requests.request(method, f"{self.flink_rest_url}{path}", timeout=30)
        if answer.status_code == 404:
            return None
        return answer.json() if answer.content else {}

    def _get(self, plural: str, name: str) -> dict[str, Any] | None:
        from kubernetes.client.exceptions import ApiException

        try:
            return dict(self.objects.get_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name))
        except ApiException as err:
            if err.status == 404:
                return None
            raise

    def _status(self, plural: str, name: str, status: dict[str, Any], job_id: str = "") -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.objects.patch_namespaced_custom_object_status(
                GROUP, VERSION, self.namespace, plural, name, {"status": status}
            )
        except ApiException as err:
            if err.status != 404:  # deleted meanwhile
                raise
        state = (
            (status.get("jobStatus") or {}).get("state")
            or status.get("lifecycleState")
            or f"JobManager {status.get('jobManagerDeploymentStatus')}"
        )
        self.history.append((plural, name, job_id, str(state)))
