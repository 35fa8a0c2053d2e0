"""``target="session" | "kubernetes" | "yarn"``: from the operator's arguments to a Target.

Each kind names two things by import path, so nothing heavy is imported while a DAG is parsed:

* an options model (pydantic, light module) that validates ``target_options`` when the operator is
  built, so a typo fails at parse time with the field's name;
* a factory ``create(flink_conn_id, options, retry) -> Target`` called when the task runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from pydantic import BaseModel

    from airflow_provider_flinkbatch.rest.client import RetryPolicy
    from airflow_provider_flinkbatch.targets.base import Target


class TargetKind(NamedTuple):
    options_model: str | None  # "module:Class" of a pydantic model, or None (takes no options)
    factory: str  # "module:function"


TARGET_KINDS: dict[str, TargetKind] = {
    "session": TargetKind(None, "airflow_provider_flinkbatch.targets.session:create"),
    "kubernetes": TargetKind(
        "airflow_provider_flinkbatch.kubernetes.options:KubernetesTargetOptions",
        "airflow_provider_flinkbatch.targets.kubernetes:create",
    ),
    "yarn": TargetKind(
        "airflow_provider_flinkbatch.targets.yarn_options:YarnTargetOptions",
        "airflow_provider_flinkbatch.targets.yarn:create",
    ),
}


class TargetOptionsError(ValueError):
    """``target`` / ``target_options`` are wrong; the message names the field and the fix."""


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def _kind(name: str) -> TargetKind:
    try:
        return TARGET_KINDS[name]
    except KeyError:
        raise TargetOptionsError(f"target={name!r} is not a known target; use one of {sorted(TARGET_KINDS)}") from None


def validate_target_options(kind: str, options: dict[str, Any] | None) -> BaseModel | None:
    """The validated options for ``kind`` (``None`` for a kind without options)."""
    from pydantic import ValidationError

    spec = _kind(kind)
    if spec.options_model is None:
        if options:
            raise TargetOptionsError(f"target={kind!r} takes no target_options; got {sorted(options)}")
        return None
    model = _load(spec.options_model)
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
    factory = _load(_kind(kind).factory)
    return factory(flink_conn_id, validated, retry)
