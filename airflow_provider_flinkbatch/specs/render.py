"""``flinkbatch render``: what a spec turns into, after defaults, presets and templates.

Values of secret ``flink_config`` keys (:mod:`..config_secrets`) print as ``***``, wherever they appear.

Printed from the same functions the DAG factory uses (:mod:`.effective`), so what you read is what
runs. The target's own view (a Kubernetes manifest, a YARN submission, the session cluster's REST body)
is asked from the target object: ``render(request)`` when the target offers it, else the session
target's ``run_body(request)``; it needs the connection, and its absence is reported, not fatal.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from airflow_provider_flinkbatch.config_secrets import masked_config, redact, secret_values
from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.specs.assets import SpecAssetError, SpecAssets
from airflow_provider_flinkbatch.specs.effective import (
    dag_kwargs,
    effective_flink_config,
    json_ready,
    operator_kwargs,
    render_sql,
    template_context,
)
from airflow_provider_flinkbatch.specs.model import JobSpec
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest
from airflow_provider_flinkbatch.targets.registry import create_target


def _request(spec: JobSpec, statements: list[str], config: dict[str, str], run_id: str) -> Any:
    job_name = operator_kwargs(spec)["job_name"]
    identity = JobIdentity(
        dag_id=spec.dag_id,
        task_id=spec.name,
        run_id=run_id,
        fingerprint=fingerprint(statements, {**config, "pipeline.name": job_name}),
    )
    return JobRequest(statements=statements, flink_config=config, job_name=job_name, identity=identity)


def target_view(spec: JobSpec, request: Any) -> Any:
    """The target's rendering of the request, or a string saying why there is none."""
    try:
        target: Any = create_target(spec.target, spec.flink_conn_id, spec.target_options, RetryPolicy(budget=0.0))
    except Exception as err:  # no connection here: say so, the rest of the rendering stands
        return f"(not rendered: {err})"
    render = getattr(target, "render", None)
    if callable(render):
        return render(request)
    run_body = getattr(target, "run_body", None)
    if callable(run_body):
        body = dict(run_body(request))
        args = body.get("programArgsList") or []
        body["programArgsList"] = f"<{len(args) // 2} statement(s), base64: the effective SQL above>"
        return body
    return f"(target {spec.target!r} offers no rendering)"


def asset_schedule(spec: JobSpec, others: list[JobSpec], assets: SpecAssets) -> list[str] | str | None:
    """The asset URIs the spec's DAG is scheduled on (a ``depends_on`` of another DAG's job), the reason they
    cannot be known, or ``None`` (no such dependency)."""
    by_name = {other.name: other for other in others}
    upstreams = [by_name[name] for name in spec.depends_on if name in by_name and by_name[name].dag_id != spec.dag_id]
    try:
        return [uri for upstream in upstreams for uri in assets.upstream_uris(upstream)] or None
    except SpecAssetError as err:
        return f"unknown: {err}"


def render_spec(
    spec: JobSpec, logical_date: str | None = None, as_json: bool = False, others: list[JobSpec] | None = None
) -> str:
    """Spec -> effective SQL, effective Flink config, operator arguments and target view (``others``: the
    folder's specs, for a schedule on another DAG's assets)."""
    when = datetime.fromisoformat(logical_date) if logical_date else None
    context = template_context(spec, when)
    sql = render_sql(spec, when)
    config = effective_flink_config(spec)
    kwargs = operator_kwargs(spec)
    kwargs["flink_config"] = masked_config(kwargs["flink_config"])
    kwargs["sql"] = f"<{len(kwargs['sql'])} characters: the SQL template of {', '.join(spec.sql)}>"
    dag = {
        key: value
        for key, value in dag_kwargs([spec]).items()
        if key in ("dag_id", "schedule", "start_date", "catchup", "tags")
    }
    assets = SpecAssets()
    if (scheduled_on := asset_schedule(spec, others or [], assets)) is not None:
        dag["schedule"] = {"assets": scheduled_on}
    kwargs["inlets"] = assets.source_uris(spec)
    request = _request(spec, split_statements(sql), config, str(context["run_id"]))
    view = target_view(spec, request)
    files = [str(spec.path), *map(str, spec.defaults_files)]
    secrets = secret_values(config)
    secrets += [json.dumps(secret)[1:-1] for secret in secrets]  # as they appear inside JSON strings
    if as_json:
        return redact(
            json.dumps(
                json_ready(
                    {
                        "spec": spec.name,
                        "files": files,
                        "logical_date": context["ds"],
                        "dag": dag,
                        "operator": kwargs,
                        "effective_flink_config": masked_config(config),
                        "sql": sql,
                        "target": view,
                    }
                ),
                indent=2,
            ),
            secrets,
        )
    lines = [
        f"== {spec.name}: {spec.path}"
        + (f" (defaults: {', '.join(p.name for p in spec.defaults_files)})" if spec.defaults_files else ""),
        "",
        "== DAG",
        json.dumps(json_ready(dag), indent=2),
        "",
        "== FlinkBatchSqlOperator arguments",
        json.dumps(json_ready(kwargs), indent=2),
        "",
        f"== Effective Flink config (presets {spec.presets or '[]'}, then resources, then flink_config)",
        *[f"{key} = {value}" for key, value in sorted(masked_config(config).items())],
        "",
        f"== Effective SQL (rendered for logical date {context['ds']})",
        sql.strip(),
        "",
        f"== Target {spec.target!r}",
        view if isinstance(view, str) else json.dumps(json_ready(view), indent=2, default=str),
    ]
    return redact("\n".join(lines), secrets)  # the target's view (a manifest, a Secret) holds them too
