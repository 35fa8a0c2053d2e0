"""An emulator of the Flink Kubernetes Operator, running against the real kube-apiserver of the tests.

It watches (polls) FlinkDeployment and FlinkSessionJob objects in one namespace and does what the
operator and the kubelet would do, with the REAL local Flink session cluster underneath. Every status is
written the way the operator writes it: a full replace of ``.status`` through the status subresource, read
back at once (``dropped`` lists any field the CRD schema pruned or changed), in the order the team's batch
status facts record, with short scaled delays (``delay``):

* the success path: CREATED -> UPGRADING (job id recorded before submit) -> DEPLOYED/DEPLOYING ->
  DEPLOYED_NOT_READY -> READY -> STABLE/RUNNING -> STABLE/FINISHED;
* "pull the image": images in ``bad_images`` fail like ImagePullBackOff: JobManager ERROR, job
  RECONCILING, lifecycle DEPLOYED (not FAILED: the operator keeps re-checking), the operator's JSON error;
  a ``jarURI`` that is not the runner crash-loops the same way (``CrashLoop - ...``);
* a failing ``main()``: application mode a FAILED job with the fixed id; session mode the operator keeps
  retrying (UPGRADING, RECONCILING, ``ReconciliationException``), as it does 15 times;
* a failed job's ``error``: ``SerializedThrowable`` at every level, the message without class name, two causes;
* a FlinkSessionJob runs under a job id the operator generates (a user-set one is ignored); without a
  READY session cluster it stays CREATED;
* ``kubernetes.operator.jm-deployment.shutdown-ttl`` in ``flinkConfiguration``: after a terminal state the
  JobManager goes MISSING, the rest is kept;
* the annotation ``SCENARIO_ANNOTATION`` names a case of ``frames.CASES``: its frames are played as they are
  (times scaled by ``frame_scale``), for the cases real Flink cannot produce here (Job Not Found, bugs);
* "mount the ConfigMap": a ``--statements-file`` under a ConfigMap volume of the JobManager pod
  template is materialized from the ConfigMap's data (waiting for it, like the kubelet);
* "run the application": ``local://`` runner jar -> ``POST /jars/<id>/run`` with the resource's entry
  class, args, ``flinkConfiguration`` and the ``$internal.pipeline.job-id`` job id;
* write ``.status`` (status subresource) like the operator: job id before deploying, lifecycleState
  CREATED -> DEPLOYED -> STABLE, jobManagerDeploymentStatus DEPLOYING -> READY, jobStatus.state
  following Flink, ``error`` with the root cause when the job fails or the submission is refused;
* ``spec.job.state: suspended`` cancels the Flink job (stateless upgrade mode). FlinkDeployment: the
  JobManager is deleted at once: jobStatus FINISHED (never CANCELED), lifecycle SUSPENDED, JobManager MISSING,
  error cleared. FlinkSessionJob: CANCELLING -> CANCELED, lifecycle UPGRADING. Deleting a resource cancels its job.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger(__name__)
GROUP, VERSION = "flink.apache.org", "v1beta1"
PLURALS = ("flinkdeployments", "flinksessionjobs")
RUNNER_JAR_URI = "local:///opt/flink/usrlib/flinkbatch-sql-runner.jar"
TERMINAL = {"FINISHED", "FAILED", "CANCELED", "SUSPENDED"}
SCENARIO_ANNOTATION = "emulator.flinkbatch.test/scenario"
SERIALIZED = "org.apache.flink.util.SerializedThrowable"
DEPLOYMENT_FAILED = "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException"
TTL_KEY = "kubernetes.operator.jm-deployment.shutdown-ttl"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 0.001}


@dataclass
class Tracked:
    job_id: str
    state: str = "RECONCILING"
    deployment: bool = True
    suspended: bool = False
    ttl: float | None = None
    terminal_at: float | None = None


@dataclass
class OperatorEmulator:
    api_client: Any
    namespace: str
    flink_rest_url: str
    runner_jar_id: str
    staging_dir: Path
    bad_images: set[str] = field(default_factory=lambda: {"registry.invalid/flink:missing"})
    interval: float = 0.3
    #: The operator's and kubelet's waits (port open, +10 s to READY...), scaled down to this many seconds.
    delay: float = 0.1
    #: Seconds of emulated time per second of a played scenario's frame time (``frames.CASES``).
    frame_scale: float = 0.1
    #: Every status written, with what the API server stored: (plural, name, written, stored).
    writes: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    tracked: dict[tuple[str, str, str], Tracked] = field(default_factory=dict)
    #: Every (plural, name, job id, state) the emulator wrote, in order: what the tests report.
    history: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: Resources the operator has fallen behind on: not reconciled (no status written) until removed from here.
    held: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        from kubernetes import client

        self.objects = client.CustomObjectsApi(self.api_client)
        self.core = client.CoreV1Api(self.api_client)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flink-operator-emulator", daemon=True)
        self.errors: list[str] = []
        self.current: dict[tuple[str, str], dict[str, Any]] = {}
        self.players: dict[tuple[str, str, str], threading.Thread] = {}
        #: The Flink configuration each resource's job was submitted with (what Flink received), by name.
        self.received: dict[str, dict[str, str]] = {}

    @property
    def dropped(self) -> list[str]:
        """Statuses the API server did not store as written (CRD schema pruning or coercion)."""
        return [f"{p}/{n}: wrote {w}, stored {s}" for p, n, w, s in self.writes if w != s]

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
                self.current.pop(key[:2], None)
                if tracked.state not in TERMINAL:
                    self._flink("PATCH", f"/jobs/{tracked.job_id}?mode=cancel")

    # ------------------------------------------------------------------ one resource
    def reconcile(self, plural: str, listed: dict[str, Any], key: tuple[str, str, str]) -> None:
        name = listed["metadata"]["name"]
        if name in self.held:
            return
        scenario = (listed["metadata"].get("annotations") or {}).get(SCENARIO_ANNOTATION)
        if scenario:
            if key not in self.players:
                self.players[key] = player = threading.Thread(target=self._play, args=(plural, name, scenario))
                player.start()
            return
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
            if status.get("lifecycleState") in ("FAILED", "SUSPENDED", "CREATED") and plural == "flinkdeployments":
                return
            if spec["job"].get("state") == "suspended":  # created suspended: the operator deploys nothing
                self._status(plural, name, {"lifecycleState": "SUSPENDED"})
                return
            self._deploy(plural, item, key)
            return
        if spec["job"].get("state") == "suspended" and not tracked.suspended:
            self._suspend(plural, name, tracked)
            return
        if tracked.state in TERMINAL:
            if tracked.ttl is not None and tracked.terminal_at and time.monotonic() - tracked.terminal_at > tracked.ttl:
                tracked.ttl = None  # the JobManager deployment is deleted; state, error, lifecycle are kept
                self._status(plural, name, {"jobManagerDeploymentStatus": "MISSING"}, tracked.job_id)
            return
        details = self._flink("GET", f"/jobs/{tracked.job_id}")
        state = str(details.get("state")) if details else tracked.state
        if state == tracked.state:
            return
        tracked.state = state
        if state in TERMINAL:
            tracked.terminal_at = time.monotonic()
        job = {"state": state, "updateTime": _now_ms()}
        if state == "FAILED":
            error = self._job_error(tracked.job_id)
            self._status(plural, name, {"lifecycleState": "FAILED", "jobStatus": job, "error": error}, tracked.job_id)
            return
        lifecycle = (
            "STABLE"
            if state in ("RUNNING", "FINISHED")
            else self.current.get((plural, name), {}).get("lifecycleState", "DEPLOYED")
        )
        self._status(plural, name, {"lifecycleState": lifecycle, "jobStatus": job}, tracked.job_id)

    def _suspend(self, plural: str, name: str, tracked: Tracked) -> None:
        tracked.suspended = True
        running = tracked.state not in TERMINAL
        if running:
            self._flink("PATCH", f"/jobs/{tracked.job_id}?mode=cancel")
        if tracked.deployment:
            # REST cancel, then the JobManager and its HA data are deleted at once: the operator stores FINISHED.
            tracked.state = "FINISHED" if running else tracked.state
            update = {
                "lifecycleState": "SUSPENDED",
                "jobManagerDeploymentStatus": "MISSING",
                "jobStatus": {"state": tracked.state, "updateTime": _now_ms()},
                "error": None,
            }
            self._status(plural, name, update, tracked.job_id)
            return
        if not running:
            self._status(plural, name, {"lifecycleState": "SUSPENDED"}, tracked.job_id)
            return
        self._status(
            plural, name, {"lifecycleState": "UPGRADING", "jobStatus": {"state": "CANCELLING"}}, tracked.job_id
        )
        deadline = time.monotonic() + 30
        while tracked.state not in TERMINAL and time.monotonic() < deadline:
            tracked.state = str((self._flink("GET", f"/jobs/{tracked.job_id}") or {}).get("state"))
            time.sleep(0.1)
        job = {"state": tracked.state, "updateTime": _now_ms()}
        self._status(plural, name, {"lifecycleState": "UPGRADING", "jobStatus": job}, tracked.job_id)

    def _deploy(self, plural: str, item: dict[str, Any], key: tuple[str, str, str]) -> None:
        spec, name = item["spec"], item["metadata"]["name"]
        config = {str(k): str(v) for k, v in (spec.get("flinkConfiguration") or {}).items()}
        requested = config.pop("$internal.pipeline.job-id", None)
        deployment = plural == "flinkdeployments"
        # FlinkDeployment: the configured id; FlinkSessionJob: always one the operator generates.
        job_id = (requested or uuid.uuid4().hex) if deployment else uuid.uuid4().hex
        if not deployment:
            session = self._get("flinkdeployments", spec["deploymentName"])
            if session is None or (session.get("status") or {}).get("jobManagerDeploymentStatus") != "READY":
                if "lifecycleState" not in (self.current.get((plural, name)) or {}):
                    self._status(plural, name, {"lifecycleState": "CREATED"})
                return  # the real operator waits for the session cluster, too: CREATED, no error
        args = self._mounted_args(item, list(spec["job"].get("args") or []))
        if args is None:
            return  # ConfigMap not there yet: the kubelet retries the mount
        properties = self._secret_properties(spec)
        if properties is None:
            return  # Secret not there yet: the kubelet retries (CreateContainerConfigError meanwhile)
        config.update(properties)
        self.received[name] = dict(config)
        self.tracked[key] = tracked = Tracked(job_id=job_id, deployment=deployment, ttl=_duration(config.get(TTL_KEY)))
        if deployment:
            self._status(plural, name, {"lifecycleState": "CREATED", "jobManagerDeploymentStatus": "MISSING"})
        self._status(plural, name, {"lifecycleState": "UPGRADING", "jobStatus": {"jobId": job_id}}, job_id)
        time.sleep(self.delay)
        if deployment:
            self._status(
                plural,
                name,
                {
                    "lifecycleState": "DEPLOYED",
                    "jobManagerDeploymentStatus": "DEPLOYING",
                    "jobStatus": {"state": "RECONCILING"},
                },
                job_id,
            )
        pod_error = self._pod_error(spec) if deployment else None
        if pod_error is not None:
            tracked.state = "RECONCILING"
            self._status(plural, name, {"jobManagerDeploymentStatus": "ERROR", "error": pod_error}, job_id)
            return  # the operator keeps re-checking the pod: the resource stays here
        if deployment:
            time.sleep(self.delay)
            self._status(plural, name, {"jobManagerDeploymentStatus": "DEPLOYED_NOT_READY"}, job_id)
            time.sleep(self.delay)
            self._status(plural, name, {"jobManagerDeploymentStatus": "READY"}, job_id)
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
            errors = answer.json().get("errors") or [answer.text]
            if deployment:
                # execution.submit-failed-job-on-application-error (the operator's default): a failing
                # main() is a FAILED job with the fixed id; status.error from the job result.
                tracked.state = "FAILED"
                tracked.terminal_at = time.monotonic()
                update = {
                    "lifecycleState": "FAILED",
                    "jobStatus": {"state": "FAILED", "updateTime": _now_ms()},
                    "error": _serialized_error(_main_failure(errors)),
                }
            else:
                # Session mode: no FAILED job; the operator retries the submission (15x), UPGRADING.
                tracked.state = "RECONCILING"
                update = {
                    "lifecycleState": "UPGRADING",
                    "jobStatus": {"state": "RECONCILING"},
                    "error": json.dumps(
                        {
                            "type": "org.apache.flink.kubernetes.operator.exception.ReconciliationException",
                            "message": _main_failure(errors)[0],
                            "throwableList": [],
                        }
                    ),
                }
            self._status(plural, name, update, job_id)
            return
        job = {"state": "RECONCILING", "startTime": _now_ms()}
        if config.get("pipeline.name"):  # a resource without one (not rendered by the provider): no name known yet
            job["jobName"] = config["pipeline.name"]
        self._status(plural, name, {"lifecycleState": "DEPLOYED", "jobStatus": job}, job_id)

    def _pod_error(self, spec: dict[str, Any]) -> str | None:
        """What the kubelet reports for a JobManager pod that cannot run, as the operator's error JSON."""
        if spec.get("image") in self.bad_images:
            message, reason = f'[flink-main-container] Back-off pulling image "{spec["image"]}"', "ImagePullBackOff"
        elif spec["job"].get("jarURI") != RUNNER_JAR_URI:  # Flink's entrypoint exits: a crash loop
            message = f"CrashLoop - Could not find the job jar {spec['job'].get('jarURI')}"
            reason = "CrashLoopBackOff"
        else:
            return None
        return json.dumps(
            {
                "type": DEPLOYMENT_FAILED,
                "message": message,
                "additionalMetadata": {"reason": reason},
                "throwableList": [],
            }
        )

    def _play(self, plural: str, name: str, scenario: str) -> None:
        """Write the frames of one ``frames.CASES`` case as they are, at their (scaled) times."""
        from k8s.frames import CASES

        case = next(c for c in CASES if c.name == scenario)
        started = time.monotonic()
        try:
            self._play_frames(plural, name, case.frames, started)
        except Exception as err:  # the tests see errors in self.errors
            log.exception("emulator player")
            self.errors.append(repr(err))

    def _play_frames(self, plural: str, name: str, frames: list[Any], started: float) -> None:
        for second, status in frames:
            pause = started + second * self.frame_scale - time.monotonic()
            if pause > 0 and self._stop.wait(pause):
                return
            if status is None:
                self._delete(plural, name)
                return
            self._status(plural, name, copy.deepcopy(status), replace=True)

    def _secret_properties(self, spec: dict[str, Any]) -> dict[str, str] | None:
        """``FLINK_PROPERTIES`` of the main container (from a Secret), appended to the configuration like the
        Flink image's ``docker-entrypoint.sh`` does; ``None`` while the Secret does not exist."""
        import yaml
        from kubernetes.client.exceptions import ApiException

        pod = (spec.get("podTemplate") or {}).get("spec") or {}
        found: dict[str, str] = {}
        for container in pod.get("containers") or []:
            if container.get("name") != "flink-main-container":
                continue
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if env.get("name") != "FLINK_PROPERTIES" or not ref:
                    continue
                try:
                    secret = self.core.read_namespaced_secret(ref["name"], self.namespace)
                except ApiException as err:
                    if err.status == 404:
                        return None
                    raise
                text = base64.b64decode(secret.data[ref["key"]]).decode()
                found.update({str(k): str(v) for k, v in (yaml.safe_load(text) or {}).items()})
        return found

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
        """The operator's error for a FAILED job: from the job result, ``SerializedThrowable`` at every level."""
        trace, deadline = "", time.monotonic() + 10
        while not trace and time.monotonic() < deadline:  # the job result is there a moment after FAILED
            exceptions = self._flink("GET", f"/jobs/{job_id}/exceptions") or {}
            entries = (exceptions.get("exceptionHistory") or {}).get("entries") or [{}]
            trace = str(entries[0].get("stacktrace") or exceptions.get("root-exception") or "")
            if not trace:
                time.sleep(0.2)
        return _serialized_error(_levels(trace) or ["Job failed"])

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

    def _delete(self, plural: str, name: str) -> None:
        from kubernetes.client.exceptions import ApiException

        try:
            self.objects.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, plural, name)
        except ApiException as err:
            if err.status != 404:
                raise

    def _status(self, plural: str, name: str, update: dict[str, Any], job_id: str = "", replace: bool = False) -> None:
        """Replace the whole ``.status`` (as the operator does): the last one written with ``update`` applied
        (``None`` removes a field; ``jobStatus`` is merged), or ``update`` itself with ``replace``."""
        from kubernetes.client.exceptions import ApiException

        status = copy.deepcopy(self.current.get((plural, name)) or {}) if not replace else update
        if not replace:
            for field_name, value in update.items():
                if value is None:
                    status.pop(field_name, None)
                elif field_name == "jobStatus":
                    status["jobStatus"] = {**status.get("jobStatus", {}), **value}
                else:
                    status[field_name] = value
            status.setdefault("reconciliationStatus", {})["state"] = (
                "UPGRADING" if status.get("lifecycleState") in ("UPGRADING", "CREATED") else "DEPLOYED"
            )
        for _ in range(10):  # a replace carries the resourceVersion it read: re-read on a conflict
            item = self._get(plural, name)
            if item is None:
                return
            try:
                stored = self.objects.replace_namespaced_custom_object_status(
                    GROUP, VERSION, self.namespace, plural, name, {**item, "status": status}
                )
                break
            except ApiException as err:
                if err.status == 404:  # deleted meanwhile
                    return
                if err.status != 409:
                    raise
        else:
            raise AssertionError(f"{plural}/{name}: status replace kept conflicting")
        self.current[(plural, name)] = status
        self.writes.append((plural, name, copy.deepcopy(status), dict(stored.get("status") or {})))
        state = (
            (status.get("jobStatus") or {}).get("state")
            or status.get("lifecycleState")
            or f"JobManager {status.get('jobManagerDeploymentStatus')}"
        )
        self.history.append((plural, name, job_id, str(state)))


def _now_ms() -> str:
    return str(int(time.time() * 1000))


def _duration(value: str | None) -> float | None:
    """A Flink duration (``2 s``, ``500ms``, ``1 d``) in seconds."""
    match = _DURATION.match(value or "")
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def _levels(trace: str) -> list[str]:
    """Each ``Class: message`` / ``Caused by: Class: message`` line of a Java stack trace: its message only
    (what ``SerializedThrowable.getMessage()`` keeps)."""
    return [
        m.group(2) or m.group(1)
        for m in re.finditer(r"^(?:Caused by: )?([\w.$]+(?:Exception|Error)\w*)(?::\s*(.*))?$", trace, re.M)
    ]


def _main_failure(errors: list[str]) -> list[str]:
    """The messages of a jar-run error, outermost first, without class names (as SerializedThrowable keeps them)."""
    text = "\n".join(str(e) for e in errors)
    levels = _levels(text)
    # In application mode the job result holds main()'s own failure, not the session REST handler's wrappers.
    main = [i for i, level in enumerate(levels) if "The main method caused an error" in level]
    levels = levels[main[0] :] if main else [lv for lv in levels if "Could not execute application" not in lv]
    return levels or [text.strip()[:2048] or "the runner's main() failed"]


def _serialized_error(messages: list[str]) -> str:
    """``status.error`` of a failed job: the outermost message and at most 2 causes, all SerializedThrowable."""
    outer, *causes = messages
    return json.dumps(
        {
            "type": SERIALIZED,
            "message": outer[:2048],
            "throwableList": [{"type": SERIALIZED, "message": c[:2048]} for c in causes[:2]],
        }
    )
