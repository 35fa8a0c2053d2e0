"""``target="session" | "kubernetes" | "yarn"``: from the operator's arguments to a Target.

Explicit code, so go-to-definition leads to each backend. Two steps, so nothing heavy is imported
while a DAG is parsed:

* :func:`validate_target_options` checks ``target_options`` against the backend's options model
  (pydantic, light module) when the operator is built, so a typo fails at parse time with the field's name;
* :func:`create_target` builds the backend's target when the task runs; the backend modules (and
  through them the Kubernetes and YARN clients) are imported only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from airflow_provider_flinkbatch.kubernetes.options import KubernetesTargetOptions
from airflow_provider_flinkbatch.yarn.options import YarnTargetOptions

if TYPE_CHECKING:  # the spec checks import this module: keep it to the options models
    from airflow_provider_flinkbatch.rest.client import RetryPolicy
    from airflow_provider_flinkbatch.targets.base import Target

#: Each target name and its options model (``None``: the target takes no options).
OPTIONS_MODELS: dict[str, type[BaseModel] | None] = {
    "session": None,
    "kubernetes": KubernetesTargetOptions,
    "yarn": YarnTargetOptions,
}
TARGET_KINDS = tuple(OPTIONS_MODELS)


class TargetOptionsError(ValueError):
    """``target`` / ``target_options`` are wrong; the message names the field and the fix."""


def validate_target_options(kind: str, options: dict[str, Any] | None) -> BaseModel | None:
    """The validated options for ``kind`` (``None`` for a kind without options)."""
    if kind not in OPTIONS_MODELS:
        raise TargetOptionsError(f"target={kind!r} is not a known target; use one of {sorted(OPTIONS_MODELS)}")
    model = OPTIONS_MODELS[kind]
    if model is None:
        if options:
            raise TargetOptionsError(f"target={kind!r} takes no target_options; got {sorted(options)}")
        return None
    try:
        return model.model_validate(options or {})
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or '(options)'}: {e['msg']}" for e in err.errors()
        )
        raise TargetOptionsError(f"target_options for target={kind!r}: {problems}") from None


def create_target(kind: str, flink_conn_id: str, options: dict[str, Any] | None, retry: RetryPolicy) -> Target:
    """A ready Target for one task run (connection looked up, clients built)."""
    validated = validate_target_options(kind, options)
    match validated:
        case None:
            # One backend (and its client library) loads: the one this task runs on.
            from airflow_provider_flinkbatch.session.target import SessionTarget

            return SessionTarget.from_connection(flink_conn_id, retry)
        case KubernetesTargetOptions():
            # The kubernetes client is optional: loaded only for target="kubernetes".
            from airflow_provider_flinkbatch.kubernetes.target import KubernetesTarget

            return KubernetesTarget.from_connections(flink_conn_id, validated)
        case YarnTargetOptions():
            # The YARN backend loads only for target="yarn".
            from airflow_provider_flinkbatch.yarn.target import YarnTarget

            return YarnTarget.from_connection(flink_conn_id, validated, retry)
    raise TargetOptionsError(f"target={kind!r}: no target is built from {type(validated).__name__}")
