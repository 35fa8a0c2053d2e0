"""Render the Flink Kubernetes Operator resources for one job attempt (pure functions, no API calls).

What is rendered here is exactly what the target applies and what ``flinkbatch render --target
kubernetes`` prints, so a reviewer sees the real manifests in a PR.

* Name: ``<slug>-<identity key[:10]>-<attempt>``, a DNS-1035 label of at most 45 characters (the
  operator derives Service and Deployment names such as ``<name>-rest`` from it and refuses longer
  ones). Deterministic: a crashed worker's retry computes the same name and finds the resource.
* Labels say the resource is ours and which task instance / attempt / job id it runs; annotations
  carry the fingerprint and the task's names (label values cannot hold arbitrary text).
* The SQL travels as the runner's ``--statement-b64`` arguments, or, when larger than
  ``inline_sql_max_bytes`` (application mode), in a ConfigMap mounted into the JobManager and read
  with ``--statements-file``. The ConfigMap is owned by the FlinkDeployment (``ownerReferences``),
  so Kubernetes' garbage collector deletes it with the deployment.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from airflow_provider_flinkbatch.config_secrets import split_secret_config
from airflow_provider_flinkbatch.identity import JobIdentity
from airflow_provider_flinkbatch.kubernetes import base as b
from airflow_provider_flinkbatch.kubernetes.base import GROUP
from airflow_provider_flinkbatch.kubernetes.options import KubernetesTargetOptions
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, runner_program_args, runner_statements_file
from airflow_provider_flinkbatch.targets.base import JobRequest
from airflow_provider_flinkbatch.targets.job_config import effective_flink_config

VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
DEPLOYMENT = ("FlinkDeployment", "flinkdeployments")
SESSION_JOB = ("FlinkSessionJob", "flinksessionjobs")

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "airflow-provider-flinkbatch"
IDENTITY_LABEL = "flinkbatch/identity"
ATTEMPT_LABEL = "flinkbatch/attempt"
JOB_ID_LABEL = "flinkbatch/job-id"
FINGERPRINT_ANNOTATION = "flinkbatch/fingerprint"
FINISHED_AT_ANNOTATION = "flinkbatch/finished-at"
JOB_NAME_ANNOTATION = "flinkbatch/job-name"
#: Flink honours a preset job id in application mode; the operator keeps a user-set one.
JOB_ID_OPTION = "$internal.pipeline.job-id"
ARCHIVE_DIR_OPTION = "jobmanager.archive.fs.dir"

MAX_NAME = 45
SQL_VOLUME = "flinkbatch-sql"
SQL_MOUNT = "/opt/flink/flinkbatch-sql"
SQL_KEY = "statements"
#: A ConfigMap holds at most 1 MiB; a FlinkSessionJob's args live in etcd with the whole object (1.5 MiB).
MAX_CONFIG_MAP_BYTES = 1000 * 1024
MAX_INLINE_SESSION_BYTES = 512 * 1024
MAIN_CONTAINER = "flink-main-container"
#: The Secret key holding the secret Flink options as ``config.yaml`` lines, and the variable the official Flink
#: image's ``docker-entrypoint.sh`` appends to the configuration when a container starts.
SECRET_PROPERTIES_KEY = "flink-properties"  # noqa: S105 (a key name, not a value)
FLINK_PROPERTIES_ENV = "FLINK_PROPERTIES"


class ManifestError(ValueError):
    """The job cannot be expressed as operator resources (e.g. the SQL is too large); says what to change."""


@dataclass(frozen=True)
class Manifests:
    """The custom resource of one job attempt and, for big scripts, the ConfigMap with its SQL."""

    kind: str
    plural: str
    name: str
    namespace: str
    custom_resource: dict[str, Any]
    config_map: dict[str, Any] | None = None
    #: The Secret with the secret Flink options (``config_secrets``): never in the spec or the ConfigMap.
    secret: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def config_map_owned_by(self, uid: str) -> dict[str, Any] | None:
        """The ConfigMap with the created FlinkDeployment as owner (its uid exists only after creation)."""
        return self._owned(self.config_map, uid)

    def owned_by(self, uid: str) -> list[dict[str, Any]]:
        """The ConfigMap and the Secret (those there are), owned by the created resource: garbage-collected with it."""
        return [owned for owned in (self._owned(self.config_map, uid), self._owned(self.secret, uid)) if owned]

    def _owned(self, document: dict[str, Any] | None, uid: str) -> dict[str, Any] | None:
        if document is None:
            return None
        owned = copy.deepcopy(document)
        owned["metadata"]["ownerReferences"] = [
            {"apiVersion": API_VERSION, "kind": self.kind, "name": self.name, "uid": uid}
        ]
        return owned


def resource_name(identity: JobIdentity, attempt: int, prefix: str | None = None) -> str:
    """``<slug>-<key[:10]>-<attempt>``: DNS-1035, at most 45 characters, same for every try of a task instance."""
    suffix = f"-{identity.key[:10]}-{attempt}"
    slug = prefix or re.sub(r"[^a-z0-9]+", "-", f"{identity.dag_id}-{identity.task_id}".lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = "fb-" + slug
    return (slug[: MAX_NAME - len(suffix)].rstrip("-") or "fb") + suffix


def selector(identity: JobIdentity) -> str:
    """Label selector of every resource of one task instance (any attempt)."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY},{IDENTITY_LABEL}={identity.key}"


def owned_selector() -> str:
    """Label selector of every resource this provider created (cleanup never looks beyond it)."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY}"


def _metadata(request: JobRequest, options: KubernetesTargetOptions, name: str) -> dict[str, Any]:
    identity = request.identity
    return {
        "name": name,
        "namespace": options.namespace,
        "labels": {
            **options.labels,
            MANAGED_BY_LABEL: MANAGED_BY,
            IDENTITY_LABEL: identity.key,
            ATTEMPT_LABEL: str(request.attempt),
            JOB_ID_LABEL: request.job_id,
        },
        "annotations": {
            **options.annotations,
            FINGERPRINT_ANNOTATION: identity.fingerprint,
            JOB_NAME_ANNOTATION: request.job_name,
            "flinkbatch/dag-id": identity.dag_id,
            "flinkbatch/task-id": identity.task_id,
            "flinkbatch/run-id": identity.run_id,
            "flinkbatch/map-index": str(identity.map_index),
        },
    }


def flink_configuration(
    request: JobRequest, options: KubernetesTargetOptions, archive_dir: str | None = None
) -> dict[str, str]:
    """The base's (``application_file``) < presets < the job's configuration (shared with the session target)
    < the deterministic job id."""
    base = _strings(options.base_spec.get("flinkConfiguration"))
    config = {**base, **options.flink_configuration, **effective_flink_config(request), JOB_ID_OPTION: request.job_id}
    if archive_dir and options.mode == "application":
        config.setdefault(ARCHIVE_DIR_OPTION, archive_dir)  # the HistoryServer reads what the JobManager archives
    return config


def _job(options: KubernetesTargetOptions, args: list[str]) -> dict[str, Any]:
    job: dict[str, Any] = {
        "jarURI": options.jar_uri,
        "entryClass": RUNNER_MAIN_CLASS,
        "args": args,
        "upgradeMode": "stateless",
        "state": "running",
    }
    if options.parallelism is not None:
        job["parallelism"] = options.parallelism
    return job


def _resource(resources: Any) -> dict[str, Any]:
    return {"cpu": resources.cpu, "memory": resources.memory}


def _sql_pod_template(config_map: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "spec": {
            "containers": [
                {
                    "name": MAIN_CONTAINER,
                    "volumeMounts": [{"name": SQL_VOLUME, "mountPath": SQL_MOUNT, "readOnly": True}],
                }
            ],
            "volumes": [{"name": SQL_VOLUME, "configMap": {"name": config_map}}],
        },
    }


def secret_name(name: str) -> str:
    return f"{name}-secrets"


def _with_secret_env(pod_template: dict[str, Any] | None, secret: str) -> dict[str, Any]:
    """``pod_template`` (JobManager and TaskManagers) with ``FLINK_PROPERTIES`` from the Secret (main container)."""
    template: dict[str, Any] = copy.deepcopy(pod_template) if pod_template else {"apiVersion": "v1", "kind": "Pod"}
    pod_spec: dict[str, Any] = template.setdefault("spec", {})
    containers: list[dict[str, Any]] = pod_spec.setdefault("containers", [])
    main = next((c for c in containers if c.get("name") == MAIN_CONTAINER), None)
    if main is None:
        main = {"name": MAIN_CONTAINER}
        containers.append(main)
    reference = {"secretKeyRef": {"name": secret, "key": SECRET_PROPERTIES_KEY}}
    main.setdefault("env", []).append({"name": FLINK_PROPERTIES_ENV, "valueFrom": reference})
    return template


def _secret(metadata: dict[str, Any], name: str, secrets: dict[str, Any]) -> dict[str, Any]:
    # JSON strings are YAML scalars: any value (quotes, colons, newlines) survives as one config.yaml line.
    lines = "".join(f"{key}: {json.dumps(str(value))}\n" for key, value in sorted(secrets.items()))
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {**copy.deepcopy(metadata), "name": name},
        "stringData": {SECRET_PROPERTIES_KEY: lines},
    }


def render(request: JobRequest, options: KubernetesTargetOptions, *, archive_dir: str | None = None) -> Manifests:
    """The resources that run ``request`` (one attempt) as ``options`` say."""
    name = resource_name(request.identity, request.attempt, options.name_prefix)
    metadata = _metadata(request, options, name)
    args = runner_program_args(request.statements)
    inline_bytes = sum(len(arg) + 1 for arg in args)
    config, secrets = split_secret_config(flink_configuration(request, options, archive_dir))

    if options.mode == "session":
        if secrets:
            raise ManifestError(
                f"flink_config keys {sorted(secrets)} are secret (config_secrets): a FlinkSessionJob has no pods "
                "of its own to receive a Kubernetes Secret, so they would be stored in its spec. Configure them on "
                "the session cluster (its FlinkDeployment, e.g. from a Secret) or use mode='application'"
            )
        if inline_bytes > MAX_INLINE_SESSION_BYTES:
            raise ManifestError(
                f"the SQL is {inline_bytes // 1024} KiB encoded; a FlinkSessionJob carries it inline and allows at "
                f"most {MAX_INLINE_SESSION_BYTES // 1024} KiB: use mode='application' (ConfigMap) or a smaller script"
            )
        kind, plural = SESSION_JOB
        session_spec = {
            "deploymentName": options.session_deployment,
            "flinkConfiguration": config,
            "job": _job(options, args),
        }
        resource = {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": session_spec}
        return Manifests(kind, plural, name, options.namespace, resource)

    base = options.application_file
    base_spec = options.base_spec
    config_map: dict[str, Any] | None = None
    job_manager = _component(base_spec, "jobManager", options, "job_manager", {"replicas": 1})
    sql_template: dict[str, Any] | None = None
    if inline_bytes > options.inline_sql_max_bytes:
        content = runner_statements_file(request.statements)
        if len(content) > MAX_CONFIG_MAP_BYTES:
            raise ManifestError(
                f"the SQL is {len(content) // 1024} KiB encoded; a ConfigMap holds at most "
                f"{MAX_CONFIG_MAP_BYTES // 1024} KiB: keep data out of the script (read it from a table or file)"
            )
        cm_name = f"{name}-sql"
        config_map = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {**copy.deepcopy(metadata), "name": cm_name},
            "data": {SQL_KEY: content},
        }
        args = ["--statements-file", f"{SQL_MOUNT}/{SQL_KEY}"]
        sql_template = _sql_pod_template(cm_name)
    if sql_template is not None:
        job_manager["podTemplate"] = b.merge_pod_template(job_manager.get("podTemplate"), sql_template)
    task_manager = _component(base_spec, "taskManager", options, "task_manager", {})
    if options.task_manager_replicas is not None:
        task_manager["replicas"] = options.task_manager_replicas
    kind, plural = DEPLOYMENT
    spec: dict[str, Any] = {k: copy.deepcopy(v) for k, v in base_spec.items()}
    for option, key in (("image", "image"), ("flink_version", "flinkVersion"), ("service_account", "serviceAccount")):
        if options.explicit(option) or key not in spec:
            spec[key] = getattr(options, option)
    spec.update(
        {
            "flinkConfiguration": config,
            "jobManager": job_manager,
            "taskManager": task_manager,
            "job": b.merge_job(base, _job(options, args)),
        }
    )
    if options.image_pull_policy:
        spec["imagePullPolicy"] = options.image_pull_policy
    if options.pod_template is not None:
        spec["podTemplate"] = copy.deepcopy(options.pod_template)
    secret = None
    if secrets:
        secret = _secret(metadata, secret_name(name), secrets)
        spec["podTemplate"] = _with_secret_env(spec.get("podTemplate"), secret_name(name))
    metadata = b.merge_metadata(base, metadata)
    resource = {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}
    return Manifests(kind, plural, name, options.namespace, resource, config_map, secret)


def _strings(config: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (config or {}).items()}


def _component(
    base_spec: dict[str, Any], key: str, options: KubernetesTargetOptions, option: str, defaults: dict[str, Any]
) -> dict[str, Any]:
    """``spec.jobManager`` / ``spec.taskManager``: the base's, with ``resource`` from the option when it is set
    explicitly or the base has none, and ``defaults`` for what the base leaves out."""
    component: dict[str, Any] = {**defaults, **copy.deepcopy(base_spec.get(key) or {})}
    if options.explicit(option) or "resource" not in component:
        component["resource"] = _resource(getattr(options, option))
    return component
