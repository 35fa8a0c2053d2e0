"""From the operator's arguments to a :class:`~airflow_provider_flinkbatch.targets.base.JobRequest`.

The SQL is split, presets are merged under the task's config, secrets are masked, and the request gets
its deterministic identity (so a retry finds the job instead of submitting it again). Every target is
handed the same request.
"""

from __future__ import annotations

import os
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


class SqlFileSizeGuard:
    """Operator mixin: refuse to load an oversized ``.sql`` file (the DAG processor would read it into memory).

    ``execute()`` then fails with :attr:`sql_too_large` as the message.
    """

    sql: str
    task_id: str
    template_ext: Any
    log: Any
    sql_too_large: str | None = None

    def resolve_template_files(self) -> None:
        if isinstance(self.sql, str) and self.sql.endswith(tuple(self.template_ext)):
            searchpath = getattr(self.get_template_env().loader, "searchpath", None) or []  # type: ignore[attr-defined]
            sizes = [os.path.getsize(p) for p in (os.path.join(d, self.sql) for d in searchpath) if os.path.isfile(p)]
            if sizes and sizes[0] > MAX_SQL_BYTES:
                self.sql_too_large = too_large(f"{self.sql} is", sizes[0])
                self.log.warning("%s: %s", self.task_id, self.sql_too_large)
                self.sql = ""  # nothing to read or render; execute() fails with the message
        super().resolve_template_files()  # type: ignore[misc]

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        if self.sql_too_large:
            return  # do not feed megabytes to Jinja; execute() reports the problem
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
