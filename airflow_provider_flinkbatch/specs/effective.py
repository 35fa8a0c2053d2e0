"""From a spec to what runs: the SQL text, the rendered SQL, the Flink config and the operator arguments.

The single place that interprets a spec. The DAG factory builds the operator from
:func:`operator_kwargs`; ``flinkbatch render`` prints the same dict; ``flinkbatch test`` and
``validate`` render the same SQL with :func:`render_sql` (Jinja with the spec's ``params`` in Airflow's
own sandboxed environment, strict about undefined names, as a run renders it) and send the same
:func:`effective_flink_config`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from airflow_provider_flinkbatch.assets import sample_context
from airflow_provider_flinkbatch.identity import normalize_flink_config
from airflow_provider_flinkbatch.presets import apply_presets
from airflow_provider_flinkbatch.specs.files import SpecPathError
from airflow_provider_flinkbatch.specs.model import RESOURCE_KEYS, JobSpec

DEFAULT_LOGICAL_DATE = datetime(2026, 1, 1, tzinfo=UTC)


class SpecRenderError(ValueError):
    """A SQL file is missing or its template does not render; the message names the file and the line."""


def sql_text(spec: JobSpec) -> str:
    """The spec's SQL files, in order, as one script (the unrendered template the operator receives)."""
    parts = []
    for name in spec.sql:
        try:
            text = spec.resolve(name).read_text()
        except SpecPathError as err:
            raise SpecRenderError(f"{spec.path.name}: sql: {err}") from err
        except OSError as err:
            raise SpecRenderError(f"{spec.path.name}: sql: cannot read {name} ({err.strerror})") from err
        # A file's last statement may omit its ';': close it so it does not run into the next file.
        parts.append(text.rstrip() + ("\n" if text.rstrip().endswith(";") else ";\n"))
    return "\n".join(parts)


def flink_config(spec: JobSpec) -> dict[str, Any]:
    """``resources`` translated to Flink keys, under the spec's ``flink_config`` (before presets)."""
    config: dict[str, Any] = {
        key: getattr(spec.resources, field)
        for field, key in RESOURCE_KEYS.items()
        if getattr(spec.resources, field) is not None
    }
    config.update(spec.flink_config)
    return config


def effective_flink_config(spec: JobSpec) -> dict[str, str]:
    """What the job is submitted with: presets, then resources and flink_config on top, as strings."""
    return normalize_flink_config(apply_presets(spec.presets, flink_config(spec)))


def template_context(
    spec: JobSpec, logical_date: datetime | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The Airflow template variables a job's SQL typically uses, for one logical date."""
    if logical_date is None:
        start = spec.start_date
        logical_date = datetime(start.year, start.month, start.day, tzinfo=UTC) if start else DEFAULT_LOGICAL_DATE
    if logical_date.tzinfo is None:
        logical_date = logical_date.replace(tzinfo=UTC)
    context = sample_context(logical_date, {**spec.params, **(params or {})}, dag_id=spec.dag_id, task_id=spec.name)
    try:
        # Airflow's task-runner macros: only when a spec's SQL is rendered, not for the CLI's other commands.
        from airflow.sdk.execution_time import macros

        context["macros"] = macros
    except ImportError:  # pragma: no cover - older task SDKs
        pass
    return context


def template_env(spec: JobSpec) -> Any:
    """The Jinja environment the spec's task renders with at run time: Airflow's sandboxed one, from a DAG
    with the spec's ``template_searchpath`` (so the CLI never runs a template a DAG run would refuse)."""
    from airflow.sdk import DAG  # Airflow's templating stack: loaded when rendering, not at DAG-file import

    dag = DAG(dag_id=spec.dag_id, schedule=None, template_searchpath=dag_kwargs([spec])["template_searchpath"])
    dag.fileloc = str(spec.path)  # the DAG's folder is on the search path: here, the spec's
    return dag.get_template_env(force_sandboxed=True)


def render_sql(spec: JobSpec, logical_date: datetime | None = None, params: dict[str, Any] | None = None) -> str:
    """The SQL after Jinja, as Airflow renders it for a run on ``logical_date`` (same sandbox, same
    strictness about undefined names)."""
    # Jinja: only when a spec's SQL is rendered.
    import jinja2

    text = sql_text(spec)
    try:
        return str(template_env(spec).from_string(text).render(template_context(spec, logical_date, params)))
    except jinja2.TemplateError as err:
        line = getattr(err, "lineno", None)
        where = f" (line {line} of the joined SQL)" if line else ""
        kind = "refused by Airflow's template sandbox" if isinstance(err, jinja2.exceptions.SecurityError) else ""
        raise SpecRenderError(
            f"{spec.path.name}: sql: template does not render{where}: {kind + ': ' if kind else ''}{err}"
        ) from err


def operator_kwargs(spec: JobSpec) -> dict[str, Any]:
    """Keyword arguments of the spec's FlinkBatchSqlOperator (the factory and ``render`` share them)."""
    kwargs: dict[str, Any] = {
        "task_id": spec.name,
        "sql": sql_text(spec),
        "params": dict(spec.params),
        "flink_conn_id": spec.flink_conn_id,
        "flink_config": flink_config(spec),
        "presets": list(spec.presets),
        "job_name": spec.job_name or f"{spec.dag_id}.{spec.name}",
        "target": spec.target,
        "target_options": dict(spec.target_options),
        "explain": spec.explain,
        "plan_check": spec.plan_check,
        "deferrable": spec.deferrable,
        "poll_interval": spec.poll_interval,
        "retry_on": dict(spec.retry_on),
        "sink_assets": {ref.table: ref.asset for ref in spec.sinks} if spec.sinks else None,
        "owner": spec.owner,
        "doc_md": spec.description or None,
    }
    optional = {
        "retries": spec.retries,
        "retry_delay": spec.retry_delay,
        "execution_timeout": spec.execution_timeout,
        "pool": spec.pool,
        "queue": spec.queue,
    }
    kwargs.update({key: value for key, value in optional.items() if value is not None})
    return kwargs


def dag_kwargs(specs: list[JobSpec]) -> dict[str, Any]:
    """DAG arguments from the specs of one DAG (checked to agree on schedule/start_date/catchup)."""
    lead = specs[0]
    start = lead.start_date
    tags = sorted({tag for spec in specs for tag in spec.tags} | {"flinkbatch-spec"})
    owners = sorted({spec.owner for spec in specs})
    descriptions = [spec.description for spec in specs if spec.description]
    folders = list(dict.fromkeys(str(spec.folder) for spec in specs))
    return {
        "dag_id": lead.dag_id,
        "schedule": lead.schedule,
        "start_date": datetime(start.year, start.month, start.day, tzinfo=UTC) if start else None,
        "catchup": lead.catchup,
        "tags": tags,
        "description": descriptions[0]
        if len(specs) == 1 and descriptions
        else f"Flink SQL jobs: {', '.join(s.name for s in specs)}",
        "template_searchpath": folders,
        "default_args": {"owner": ", ".join(owners)},
        "doc_md": "Built from job specs: " + ", ".join(f"`{spec.path.name}`" for spec in specs),
    }


def json_ready(value: Any) -> Any:
    """Values of :func:`operator_kwargs` as JSON (durations in seconds, dates as ISO)."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
