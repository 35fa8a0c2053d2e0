"""``target_options`` of ``target="kubernetes"``: validated when the DAG is parsed (pure pydantic, no clients).

Two modes, both driven by the Flink Kubernetes Operator:

* ``application`` (default): one ``FlinkDeployment`` per job attempt; the SQL runner jar must be in
  the image (``jar_uri``), the JobManager runs the runner's ``main``.
* ``session``: one ``FlinkSessionJob`` per job attempt against an existing session ``FlinkDeployment``
  (``session_deployment``); the operator fetches ``jar_uri`` (``https://``, ``s3://``... or ``local://``
  in the session cluster's image).
"""

from __future__ import annotations

import re
import string
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from airflow_provider_flinkbatch.identity import normalize_flink_config
from airflow_provider_flinkbatch.kubernetes.base import BaseDeploymentError, base_namespace, load_application_file

#: ``flinkVersion`` values the operator's CRD accepts that can run the runner (built for Flink 2.x).
FLINK_VERSIONS = ("v2_0", "v2_1", "v2_2", "v2_3", "v2_4")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*([kmgt]i?b?|[KMGT]i?|[kmgt]b|[KMGT]B)?$", re.IGNORECASE)
#: Placeholders the URL templates may use.
URL_FIELDS = ("name", "namespace", "job_id")


class Resources(BaseModel):
    """CPU and memory of the JobManager or of each TaskManager (``spec.jobManager.resource``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: float = Field(default=1.0, gt=0)
    memory: str = "2048m"

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value.strip()):
            raise ValueError(f"{value!r} is not a Flink memory size; write e.g. '2048m' or '4g'")
        return value.strip()


def _check_dns_label(value: str | None) -> str | None:
    if value is not None and (len(value) > 63 or not _DNS_LABEL.match(value)):
        raise ValueError(f"{value!r} is not a valid Kubernetes name (lower-case letters, digits, '-', max 63)")
    return value


def _check_template(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    for _, name, _, _ in string.Formatter().parse(value):
        if name is not None and name not in URL_FIELDS:
            known = ", ".join("{" + f + "}" for f in URL_FIELDS)
            raise ValueError(f"{field}: unknown placeholder {{{name}}}; use {known}")
    return value


class KubernetesTargetOptions(BaseModel):
    """Where and how the Flink job runs on Kubernetes. Unknown keys are refused (a typo is not ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kubernetes_conn_id: str = Field(
        default="kubernetes_default",
        description="Airflow Kubernetes connection (cncf-kubernetes provider): in-cluster, kubeconfig, context",
    )
    namespace: str = "default"
    mode: Literal["application", "session"] = "application"
    session_deployment: str | None = Field(
        default=None, description="name of the session FlinkDeployment (mode='session')"
    )
    image: str | None = Field(default=None, description="Flink image holding the SQL runner jar (mode='application')")
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = None
    flink_version: Literal["v2_0", "v2_1", "v2_2", "v2_3", "v2_4"] = "v2_3"
    service_account: str = "flink"
    jar_uri: str = Field(
        default="local:///opt/flink/usrlib/flinkbatch-sql-runner.jar",
        description="where the operator finds the SQL runner jar (build it with `flinkbatch runner-jar`)",
    )
    job_manager: Resources = Resources()
    task_manager: Resources = Resources()
    task_manager_replicas: int | None = Field(default=None, ge=1)
    parallelism: int | None = Field(default=None, ge=1)
    flink_configuration: dict[str, str] = Field(
        default_factory=dict,
        description="presets for spec.flinkConfiguration; the operator's flink_config wins over them",
    )
    pod_template: dict[str, Any] | None = Field(default=None, description="spec.podTemplate, passed through")
    application_file: dict[str, Any] | None = Field(
        default=None,
        description="your FlinkDeployment (path to .yaml/.json, YAML/JSON text or a dict, as for "
        "apache-airflow-providers-apache-flink's FlinkKubernetesOperator): the base the provider merges its "
        "job into (see kubernetes/base.py for what wins)",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="extra labels on the custom resources")
    annotations: dict[str, str] = Field(default_factory=dict)
    name_prefix: str | None = Field(
        default=None, description="start of the resource names (default: from dag_id and task_id)"
    )
    inline_sql_max_bytes: int = Field(
        default=16 * 1024,
        ge=0,
        description="larger scripts travel in a ConfigMap mounted into the JobManager (application mode)",
    )
    rest_url_template: str | None = Field(
        default=None,
        description="JobManager REST URL reachable from Airflow, e.g. http://{name}-rest.{namespace}:8081; "
        "used for progress, summary and root cause",
    )
    ui_url_template: str | None = Field(
        default=None,
        description="Flink web UI URL for the task page link, e.g. https://flink.example.com/{namespace}/{name}/",
    )
    delete_after_success: bool = True
    stall_grace: float = Field(
        default=600.0,
        gt=0,
        description="seconds a resource may stay in a state the operator can keep for ever (JobManager ERROR, "
        "submission retried, session cluster missing or not READY, Job Not Found) before the task fails",
    )
    keep_failed_hours: float = Field(
        default=24.0, ge=0, description="failed/cancelled resources are kept this long for debugging, then deleted"
    )

    @model_validator(mode="before")
    @classmethod
    def _load_base(cls, data: Any) -> Any:
        """Read ``application_file`` once (a bad file fails the DAG import); its namespace is the default."""
        if not isinstance(data, dict) or data.get("application_file") is None:
            return data
        try:
            base = load_application_file(data["application_file"])
        except BaseDeploymentError as err:
            raise ValueError(str(err)) from None
        namespace = base_namespace(base)
        if namespace and data.get("namespace") not in (None, namespace):
            raise ValueError(
                f"application_file is for namespace {namespace!r} but namespace={data['namespace']!r}: "
                "remove one of them (metadata.namespace in the file, or the namespace option)"
            )
        return {**data, "application_file": base, "namespace": data.get("namespace") or namespace or "default"}

    @field_validator("namespace", "session_deployment")
    @classmethod
    def _dns_label(cls, value: str | None) -> str | None:
        return _check_dns_label(value)

    @field_validator("name_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (len(value) > 20 or not re.match(r"^[a-z]([-a-z0-9]*[a-z0-9])?$", value)):
            raise ValueError(f"{value!r}: use at most 20 lower-case letters, digits and '-', starting with a letter")
        return value

    @field_validator("flink_configuration", mode="before")
    @classmethod
    def _config_strings(cls, value: Any) -> Any:
        return normalize_flink_config(value) if isinstance(value, dict) else value

    @field_validator("rest_url_template", "ui_url_template")
    @classmethod
    def _templates(cls, value: str | None, info: Any) -> str | None:
        return _check_template(value, info.field_name)

    @model_validator(mode="after")
    def _mode_fields(self) -> KubernetesTargetOptions:
        if self.mode == "application" and not self.image and not self.base_spec.get("image"):
            raise ValueError(
                "mode='application' needs image (or spec.image in application_file): the Flink image that holds "
                "the SQL runner jar"
            )
        if self.mode == "session":
            if self.application_file is not None:
                raise ValueError(
                    "application_file is a FlinkDeployment base for mode='application'; a FlinkSessionJob runs on "
                    "the session_deployment's cluster, which defines the image and pods"
                )
            if not self.session_deployment:
                raise ValueError("mode='session' needs session_deployment: the session FlinkDeployment's name")
            ignored = [f for f in ("image", "pod_template", "task_manager_replicas") if getattr(self, f) is not None]
            if ignored:
                raise ValueError(f"mode='session' does not use {ignored}: the session FlinkDeployment defines them")
        return self

    @property
    def base_spec(self) -> dict[str, Any]:
        """``spec`` of ``application_file`` (empty without one)."""
        return dict((self.application_file or {}).get("spec") or {})

    def explicit(self, field: str) -> bool:
        """Whether ``field`` was set in ``target_options`` (then it wins over ``application_file``)."""
        return field in self.model_fields_set

    def url(self, template: str | None, *, name: str, job_id: str) -> str | None:
        """A URL template filled in for one resource."""
        return template.format(name=name, namespace=self.namespace, job_id=job_id) if template else None


class WatchOptions(BaseModel):
    """What watching a resource someone else created needs (the ``FlinkKubernetesBatchSensor``): where it is
    and how to read its job. Nothing is rendered or submitted, so the submission fields (``image``...) do not
    apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kubernetes_conn_id: str = "kubernetes_default"
    namespace: str = "default"
    name: str
    kind: Literal["FlinkDeployment", "FlinkSessionJob"] = "FlinkDeployment"
    rest_url_template: str | None = None
    ui_url_template: str | None = None
    stall_grace: float = Field(default=600.0, gt=0)

    @field_validator("namespace", "name")
    @classmethod
    def _dns_label(cls, value: str) -> str | None:
        return _check_dns_label(value)

    @field_validator("rest_url_template", "ui_url_template")
    @classmethod
    def _templates(cls, value: str | None, info: Any) -> str | None:
        return _check_template(value, info.field_name)

    def target_options(self) -> KubernetesTargetOptions:
        """The target's options for this watch: the validated fields above, the rest left at their defaults
        (``model_construct``: a watcher never renders, so ``image`` is not required)."""
        fields = self.model_dump(exclude={"name", "kind"})
        if self.kind == "FlinkSessionJob":
            return KubernetesTargetOptions.model_construct(mode="session", session_deployment=None, **fields)
        return KubernetesTargetOptions.model_construct(**fields)
