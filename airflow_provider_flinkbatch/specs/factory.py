"""DAG factory: a folder of job specs -> one DAG per spec (or per ``dag:`` group), tasks wired by ``depends_on``.

A ``depends_on`` naming a job of another DAG schedules this DAG on the assets that job writes
(:mod:`.assets`): the DAG runs when the upstream's data lands. Each task's inlets are its spec's sources
whose location is known when the DAG is parsed.

A DAG file of two lines::

    from airflow_provider_flinkbatch.specs import build_dags
    build_dags("specs", globals())

A broken spec must not take the other DAGs down with it (a DAG file that raises loses *all* its DAGs),
so by default each broken spec becomes a small placeholder DAG with the spec's id, no schedule, and a
single task that fails with the problems: the error is visible in the UI where the DAG used to be, and
the broken configuration never runs. ``on_error="skip"`` only logs; ``"raise"`` fails the whole file.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Literal

from airflow.sdk import DAG, Asset, task

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.specs.assets import SpecAssets
from airflow_provider_flinkbatch.specs.effective import dag_kwargs, operator_kwargs
from airflow_provider_flinkbatch.specs.errors import SpecError, SpecValidationError, relative
from airflow_provider_flinkbatch.specs.load import SpecSet, _yaml_load, load_specs
from airflow_provider_flinkbatch.specs.model import JobSpec

log = logging.getLogger(__name__)

SPEC_ERROR_TAG = "flinkbatch-spec-error"


def _folder(folder: str | os.PathLike[str], namespace: MutableMapping[str, Any] | None) -> Path:
    """A relative folder is relative to the DAG file that calls the factory."""
    path = Path(folder)
    if not path.is_absolute() and namespace is not None and namespace.get("__file__"):
        path = Path(str(namespace["__file__"])).resolve().parent / path
    return path


def group_specs(specs: list[JobSpec]) -> dict[str, list[JobSpec]]:
    """DAG id -> its specs, in file order."""
    groups: dict[str, list[JobSpec]] = {}
    for spec in specs:
        groups.setdefault(spec.dag_id, []).append(spec)
    return groups


def build_dag(specs: list[JobSpec], all_specs: list[JobSpec] | None = None, assets: SpecAssets | None = None) -> DAG:
    """One DAG holding one FlinkBatchSqlOperator per spec, with the specs' dependencies; ``all_specs`` (the
    whole folder) resolves a ``depends_on`` on another DAG's job to the assets it writes."""
    by_name = {spec.name: spec for spec in all_specs or specs}
    assets = assets or SpecAssets()
    kwargs = dag_kwargs(specs)
    uris = [
        uri
        for spec in specs
        for name in spec.depends_on
        if by_name[name].dag_id != spec.dag_id
        for uri in assets.upstream_uris(by_name[name])
    ]
    if uris:
        kwargs["schedule"] = [Asset(uri) for uri in dict.fromkeys(uris)]  # every upstream asset updated
    with DAG(**kwargs) as dag:
        tasks = {
            spec.name: FlinkBatchSqlOperator(
                **operator_kwargs(spec), inlets=[Asset(uri) for uri in assets.source_uris(spec)]
            )
            for spec in specs
        }
    for spec in specs:
        for upstream in spec.depends_on:
            if upstream in tasks:
                tasks[upstream] >> tasks[spec.name]
    return dag


def _placeholder_dag(dag_id: str, errors: list[SpecError]) -> DAG:
    """A DAG that only reports why the spec is broken (never scheduled; its task fails with the errors)."""
    message = "\n".join(str(error) for error in errors)
    with DAG(
        dag_id=dag_id,
        schedule=None,
        tags=[SPEC_ERROR_TAG],
        description=f"BROKEN SPEC: {message.splitlines()[0]}"[:200],
        doc_md="This job spec does not validate; fix it and the DAG comes back:\n\n```\n" + message + "\n```",
    ) as dag:

        @task(task_id="spec_error")
        def spec_error() -> None:
            raise ValueError("the job spec is invalid:\n" + message)

        spec_error()
    return dag


def _broken_dag_id(path: Path, errors: list[SpecError]) -> str:
    """The id the spec's DAG would have had: its ``dag``/``name`` if readable, else the file stem."""
    try:
        data = _yaml_load(path)
    except Exception:  # unreadable YAML: fall back to the file name
        data = None
    value = (data.get("dag") or data.get("name")) if isinstance(data, dict) else None
    return value if isinstance(value, str) and value else path.stem


def build_dags(
    folder: str | os.PathLike[str],
    namespace: MutableMapping[str, Any] | None = None,
    *,
    on_error: Literal["placeholder", "skip", "raise"] = "placeholder",
    root: str | os.PathLike[str] | None = None,
) -> dict[str, DAG]:
    """Build the DAGs of every spec under ``folder``; put them into ``namespace`` (the DAG file's globals()).

    Returns ``{dag_id: DAG}``. See the module docstring for ``on_error``; ``root`` widens the folder the
    specs' files must stay in (default: ``folder``; see :mod:`.files`).
    """
    specs = load_specs(_folder(folder, namespace), root=None if root is None else _folder(root, namespace))
    if specs.errors and on_error == "raise":
        raise SpecValidationError(specs.errors)
    dags, failed = build_from(specs)
    for path, errors in {**specs.broken, **failed}.items():
        for error in errors:
            log.error("Job spec problem: %s", error)
        if on_error == "placeholder":
            dag_id = _broken_dag_id(path, errors)
            if dag_id in dags:  # the other jobs of its DAG are fine: report under a separate id
                dag_id = f"{dag_id}.{path.stem}.spec_error"
            dags[dag_id] = _placeholder_dag(dag_id, errors)
    if namespace is not None:
        for dag_id, dag in dags.items():
            namespace[f"flinkbatch_spec_dag__{dag_id}"] = dag
    return dags


def build_from(specs: SpecSet) -> tuple[dict[str, DAG], dict[Path, list[SpecError]]]:
    """DAGs of the valid specs of a loaded set, and the specs whose DAG could not be built (e.g. a
    missing SQL file): one group failing leaves the others standing."""
    dags: dict[str, DAG] = {}
    failed: dict[Path, list[SpecError]] = {}
    assets = SpecAssets(specs.root)
    for dag_id, members in group_specs(specs.specs).items():
        try:
            dags[dag_id] = build_dag(members, specs.specs, assets)
        except (ValueError, TypeError) as err:
            for spec in members:
                failed[spec.path] = [SpecError(relative(spec.path, specs.root), (), f"DAG {dag_id!r}: {err}")]
    assets.save()
    return dags, failed
