"""From the operator's arguments to a :class:`~airflow_provider_flinkbatch.targets.base.JobRequest`.

The SQL is split, presets are merged under the task's config, secrets are masked, and the request gets
its deterministic identity (so a retry finds the job instead of submitting it again). Every target is
handed the same request.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkbatch.config_secrets import mask_secret_config
from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint, normalize_flink_config
from airflow_provider_flinkbatch.presets import apply_presets
from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest

#: Largest SQL script accepted. Statements travel base64-encoded in one REST request, which Flink caps at
#: ``rest.server.max-content-length`` (100 MiB by default); real scripts are kilobytes.
MAX_SQL_BYTES = 16 * 1024 * 1024


class JobDefinitionError(ValueError):
    """The task's SQL or configuration cannot become a job; the message says what to fix."""


def too_large(what: str, size: int) -> str:
    return (
        f"{what} {size / 1024 / 1024:.1f} MiB; the limit is {MAX_SQL_BYTES // 1024 // 1024} MiB. "
        "Keep data out of the script: read it from a table or file instead of inlining it"
    )


def build_request(
    ti: Any, sql: str, flink_config: dict[str, Any], presets: list[str], job_name: str | None
) -> JobRequest:
    """The job of task instance ``ti``; raises :class:`JobDefinitionError` for SQL or config a job cannot run."""
    size = len(sql.encode()) if isinstance(sql, str) else 0
    if size > MAX_SQL_BYTES:
        raise JobDefinitionError(too_large("the SQL is", size))
    mask_secret_config(flink_config)
    try:
        statements = split_statements(sql)
        config = normalize_flink_config(apply_presets(presets, flink_config))
    except (SqlScriptError, ValueError) as err:
        raise JobDefinitionError(f"invalid job definition: {err}") from err
    name = job_name or f"{ti.dag_id}.{ti.task_id}"
    identity = JobIdentity(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        map_index=ti.map_index if ti.map_index is not None else -1,
        fingerprint=fingerprint(statements, {**config, "pipeline.name": name}),
    )
    return JobRequest(statements=statements, flink_config=config, job_name=name, identity=identity)
