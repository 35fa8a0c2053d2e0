"""From the operator's arguments to a :class:`~airflow_provider_flinkbatch.targets.base.JobRequest`.

The SQL is split, presets are merged under the task's config, secrets are masked, and the request gets
its deterministic identity (so a retry finds the job instead of submitting it again). Every target is
handed the same request.
"""

from __future__ import annotations

import os
from typing import Any

import jinja2

from airflow_provider_flinkbatch.config_secrets import mask_secret_config
from airflow_provider_flinkbatch.identity import (
    IdentityError,
    JobIdentity,
    fingerprint,
    identity_option_problems,
    normalize_flink_config,
)
from airflow_provider_flinkbatch.log_safe import job_name_problem
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
    if problems := identity_option_problems(statements, config):
        raise JobDefinitionError("; ".join(problems))
    name = job_name or f"{ti.dag_id}.{ti.task_id}"
    if problem := job_name_problem(name):
        raise JobDefinitionError(problem)
    try:
        identity = JobIdentity(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            run_id=ti.run_id,
            map_index=ti.map_index if ti.map_index is not None else -1,
            fingerprint=fingerprint(statements, {**config, "pipeline.name": name}),
        )
    except IdentityError as err:  # a bad [flinkbatch] deployment
        raise JobDefinitionError(str(err)) from err
    return JobRequest(statements=statements, flink_config=config, job_name=name, identity=identity)


class SqlFileNotFound(FileNotFoundError):
    """``sql="<name>.sql"`` names a file the DAG's template search path does not have (fails the DAG import)."""


class SqlFileSizeGuard:
    """Operator mixin for ``sql="<name>.sql"``: fail the DAG import on a file that is not there (one line
    naming it and the folders searched, not a Jinja traceback at run time), refuse to load an oversized one
    (the DAG processor would read it into memory), and remember the name for error messages.

    ``execute()`` then fails with :attr:`sql_too_large` as the message (:meth:`checked_sql`).
    """

    sql: str
    task_id: str
    template_ext: Any
    log: Any
    sql_too_large: str | None = None
    sql_file: str | None = None

    def resolve_template_files(self) -> None:
        if isinstance(self.sql, str) and self.sql.endswith(tuple(self.template_ext)):
            self.sql_file = self.sql
            size = self._sql_file_size(self.sql)
            if size is not None and size > MAX_SQL_BYTES:
                self.sql_too_large = too_large(f"{self.sql} is", size)
                self.log.warning("%s: %s", self.task_id, self.sql_too_large)
                self.sql = ""  # nothing to read or render; execute() fails with the message
        super().resolve_template_files()  # type: ignore[misc]

    @property
    def sql_origin(self) -> str:
        """Where the SQL came from, for messages that point into it."""
        return self.sql_file or "the task's SQL"

    def checked_sql(self) -> str:
        """The (rendered) SQL; :class:`JobDefinitionError` when the file was too large to load."""
        if self.sql_too_large:
            raise JobDefinitionError(self.sql_too_large)
        return self.sql

    def _sql_file_size(self, name: str) -> int | None:
        """The file's size (None: found by a loader without a search path); :class:`SqlFileNotFound` if missing."""
        env = self.get_template_env()  # type: ignore[attr-defined]
        searchpath = [str(folder) for folder in getattr(env.loader, "searchpath", None) or []]
        for folder in searchpath:
            if os.path.isfile(os.path.join(folder, name)):
                return os.path.getsize(os.path.join(folder, name))
        try:  # a loader without a search path (or one that finds it elsewhere) decides
            if env.loader is not None:
                env.loader.get_source(env, name)
                return None
        except jinja2.TemplateNotFound:
            pass
        where = ", ".join(searchpath) or "the DAG's template loader"
        raise SqlFileNotFound(
            f"{self.task_id}: SQL file {name!r} not found (searched: {where}); give the path relative to the DAG "
            "file's folder or add its folder to the DAG's template_searchpath"
        )

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        if self.sql_too_large:
            return  # do not feed megabytes to Jinja; execute() reports the problem
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        # before Airflow stores the rendered fields (the UI's "Rendered Template" view) and logs anything
        if isinstance(getattr(self, "flink_config", None), dict):
            mask_secret_config(self.flink_config)  # type: ignore[attr-defined]
