"""A user's own FlinkDeployment (``application_file``) as the base the provider's rendering merges into.

Users of ``apache-airflow-providers-apache-flink`` keep a FlinkDeployment YAML for its
``FlinkKubernetesOperator`` (image, pod templates, resources, service account, Flink options). The
``application_file`` target option takes that same file (a path, a YAML/JSON string or a dict), so moving to
this provider keeps what the platform team wrote. Precedence (docs/kubernetes.md, "Migrating"):

* **always the provider's**: ``metadata.name`` (identity-derived, for reattach), the identity labels and
  annotations, ``spec.job`` (the SQL runner, ``upgradeMode: stateless``, ``state: running``), batch mode, the
  job id and the other keys of the task's configuration in ``spec.flinkConfiguration``, the SQL ConfigMap mount
  and the Secret's ``FLINK_PROPERTIES`` in the pod templates;
* **an option set explicitly in ``target_options``** (``image``, ``service_account``, ``job_manager``,
  ``pod_template``...) wins over the base;
* **the base** keeps everything else (``image``, ``podTemplate``, ``jobManager``/``taskManager``,
  ``serviceAccount``, ``flinkConfiguration`` keys the task does not set, ``ingress``, ``logConfiguration``, its
  own labels and annotations...); option defaults only fill what the base leaves out.

A base that cannot be merged is refused when the DAG is parsed: not a mapping, another kind or API group, a
namespace other than an explicit ``namespace`` option, or used with ``mode="session"``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

GROUP = "flink.apache.org"
KIND = "FlinkDeployment"
#: ``spec.job`` fields the provider always sets: the job is the SQL the task runs.
JOB_FIELDS = ("jarURI", "entryClass", "args", "upgradeMode", "state")
_FILE_SUFFIXES = (".yaml", ".yml", ".json")


class BaseDeploymentError(ValueError):
    """The ``application_file`` cannot serve as the base FlinkDeployment; the message says what to change."""


def load_application_file(value: Any) -> dict[str, Any]:
    """The base as a dict: ``value`` is a dict, a path to a ``.yaml``/``.yml``/``.json`` file, or YAML/JSON text."""
    if isinstance(value, dict):
        document: Any = copy.deepcopy(value)
    elif isinstance(value, Path) or (
        isinstance(value, str) and "\n" not in value and value.strip().endswith(_FILE_SUFFIXES)
    ):
        path = Path(value).expanduser()
        try:
            text = path.read_text()
        except OSError as err:
            raise BaseDeploymentError(
                f"application_file {str(value)!r} cannot be read ({err.strerror or err}): give an absolute path "
                "(e.g. str(Path(__file__).parent / 'flink-deployment.yaml')), the YAML text or a dict"
            ) from None
        document = _parse(text, f"file {path}")
    elif isinstance(value, str):
        document = _parse(value, "text")
    else:
        raise BaseDeploymentError(
            f"application_file must be a path, YAML/JSON text or a dict, not {type(value).__name__}"
        )
    return check_base(document)


def _parse(text: str, where: str) -> Any:
    try:
        return yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as err:
        raise BaseDeploymentError(f"application_file ({where}) is not valid YAML/JSON: {err}") from None


def check_base(document: Any) -> dict[str, Any]:
    """Refuse what cannot be a FlinkDeployment base, naming the field."""
    if not isinstance(document, dict):
        raise BaseDeploymentError(
            f"application_file must hold one FlinkDeployment mapping, not {type(document).__name__}"
        )
    kind = document.get("kind", KIND)
    if kind != KIND:
        raise BaseDeploymentError(
            f"application_file is a {kind}, not a FlinkDeployment: the provider runs each attempt as its own "
            "FlinkDeployment (for a session cluster use mode='session' with session_deployment instead)"
        )
    api_version = str(document.get("apiVersion") or f"{GROUP}/v1beta1")
    if api_version.split("/", 1)[0] != GROUP:
        raise BaseDeploymentError(
            f"application_file apiVersion {api_version!r} is not the Flink Kubernetes Operator's ({GROUP}/v1beta1)"
        )
    for section in ("metadata", "spec"):
        if not isinstance(document.get(section) or {}, dict):
            raise BaseDeploymentError(f"application_file {section} must be a mapping")
    job = (document.get("spec") or {}).get("job") or {}
    if not isinstance(job, dict):
        raise BaseDeploymentError("application_file spec.job must be a mapping")
    return document


def base_namespace(base: dict[str, Any] | None) -> str | None:
    """The namespace the base names, if any."""
    return ((base or {}).get("metadata") or {}).get("namespace") or None


def merge_metadata(base: dict[str, Any] | None, ours: dict[str, Any]) -> dict[str, Any]:
    """Our name and namespace; the base's labels and annotations, with ours on top (identity, fingerprint)."""
    theirs = (base or {}).get("metadata") or {}
    merged = copy.deepcopy(ours)
    for key in ("labels", "annotations"):
        merged[key] = {**{str(k): str(v) for k, v in (theirs.get(key) or {}).items()}, **ours.get(key, {})}
    return merged


def merge_job(base: dict[str, Any] | None, ours: dict[str, Any]) -> dict[str, Any]:
    """``spec.job``: ours for :data:`JOB_FIELDS` (and ``parallelism`` when set); the base's other fields stay."""
    theirs = ((base or {}).get("spec") or {}).get("job") or {}
    return {**{k: copy.deepcopy(v) for k, v in theirs.items() if k not in JOB_FIELDS}, **ours}


def merge_pod_template(base: dict[str, Any] | None, ours: dict[str, Any] | None) -> dict[str, Any] | None:
    """A pod template with our containers' mounts/env and volumes added to the base's (containers by name)."""
    if base is None or ours is None:
        return copy.deepcopy(ours if ours is not None else base)
    merged = copy.deepcopy(base)
    merged.setdefault("apiVersion", ours.get("apiVersion", "v1"))
    merged.setdefault("kind", ours.get("kind", "Pod"))
    spec: dict[str, Any] = merged.setdefault("spec", {})
    containers: list[dict[str, Any]] = spec.setdefault("containers", [])
    for container in (ours.get("spec") or {}).get("containers") or []:
        existing = next((c for c in containers if c.get("name") == container.get("name")), None)
        if existing is None:
            containers.append(copy.deepcopy(container))
            continue
        for key in ("volumeMounts", "env"):
            existing.setdefault(key, []).extend(copy.deepcopy(container.get(key) or []))
    spec.setdefault("volumes", []).extend(copy.deepcopy((ours.get("spec") or {}).get("volumes") or []))
    return merged
