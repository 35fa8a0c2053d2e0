"""Run ``EXPLAIN`` for a job's INSERT statements in a client-side JVM and read the plan.

Why client-side: submitted through the REST API, a script without a job fails ("No jobs included in
application") and whatever it prints lands in the JobManager's stdout. Planning needs no cluster, only
the Flink jars and the tables' definitions, so the runner jar runs here with ``--explain`` (about 10 s,
most of it JVM and planner start-up) against the local Flink distribution. Connectors the script uses
must be on that classpath (``extra_jars``) for their tables to be planned.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow_provider_flinkbatch.distribution import find_flink_distribution
from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.local.jars import JarResolutionError, connector_jars
from airflow_provider_flinkbatch.plan.insight import WIDE_TABLE_COLUMNS, PlanInsight, optimized_plan, scan_insights
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, ensure_runner_jar, runner_program_args
from airflow_provider_flinkbatch.sql.errors import describe_rejection
from airflow_provider_flinkbatch.sql.factories import needed_jars

_BEGIN, _END, _TABLES = "=== FLINKBATCH PLAN BEGIN ===", "=== FLINKBATCH PLAN END ===", "FLINKBATCH-TABLES "


class ExplainError(FlinkBatchError, RuntimeError):
    """The plan could not be produced (bad SQL, missing connector, no Java): the message says which.

    ``statement_offset``: how many ``SET`` statements (the job's config) ran before the script's own, so a
    "Statement N of M" in the message can be mapped back to the script (:mod:`..sql.errors`).
    """

    def __init__(self, message: str, statement_offset: int = 0) -> None:
        super().__init__(message)
        self.statement_offset = statement_offset


def _set_statements(flink_config: dict[str, Any]) -> list[str]:
    """The job's config as ``SET`` statements, so ``table.optimizer.*`` keys shape the plan as they will in the job."""
    quote = lambda text: str(text).replace("'", "''")  # noqa: E731
    return [f"SET '{quote(key)}' = '{quote(value)}'" for key, value in flink_config.items()]


def run_explain(
    statements: Sequence[str],
    flink_config: dict[str, Any] | None = None,
    *,
    extra_jars: Sequence[str] = (),
    timeout: float = 300.0,
) -> tuple[str, dict[str, Any]]:
    """``(explain text, tables)`` for the script: the runner's ``--explain`` output, parsed into its parts."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ExplainError("java not found: plan insight runs the planner in a local JVM; install a Java 17 runtime")
    distribution = find_flink_distribution()
    jar = ensure_runner_jar(distribution)
    classpath = os.pathsep.join([distribution.classpath(), *extra_jars, *_needed_jars(statements), str(jar.path)])
    sets = _set_statements(flink_config or {})
    script = [*sets, *statements]
    try:
        result = subprocess.run(
            [java, "-Xmx1g", "-cp", classpath, RUNNER_MAIN_CLASS, *runner_program_args(script, explain=True)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise ExplainError(f"EXPLAIN did not finish within {timeout:.0f}s") from err
    out = result.stdout
    if result.returncode != 0 or _BEGIN not in out:
        message = _java_error(result.stderr) or f"the planner exited with {result.returncode}"
        raise ExplainError(message, statement_offset=len(sets))
    plan = out[out.index(_BEGIN) + len(_BEGIN) : out.index(_END)].strip("\n")
    tables_line = next((line for line in out.splitlines() if line.startswith(_TABLES)), _TABLES + "{}")
    return plan, json.loads(tables_line[len(_TABLES) :])


def _needed_jars(statements: Sequence[str]) -> list[str]:
    """The connector/format jars the script's tables ask for, from the jar cache (resolved on first use)."""
    names = needed_jars(statements)
    if not names:
        return []
    try:
        return [str(path) for path in connector_jars(names)]
    except JarResolutionError as err:
        raise ExplainError(f"the script needs the {', '.join(names)} jar(s), which were not resolved: {err}") from err


def _java_error(stderr: str) -> str:
    """The most specific message of a Java stack trace: the last ``Caused by`` or the exception line."""
    messages = [
        line.split(": ", 1)[1].strip()
        for line in stderr.splitlines()
        if ": " in line and (line.startswith("Exception in thread") or line.startswith("Caused by:"))
    ]
    if not messages:
        return stderr.strip().splitlines()[-1] if stderr.strip() else ""
    cause = messages[-1].split(": ", 1)[-1]  # without the exception class
    return messages[0] if len(messages) == 1 or cause in messages[0] else f"{messages[0]} (cause: {messages[-1]})"


def explain(
    statements: Sequence[str],
    flink_config: dict[str, Any] | None = None,
    *,
    extra_jars: Sequence[str] = (),
    wide_table_columns: int = WIDE_TABLE_COLUMNS,
) -> PlanInsight:
    """The optimized plan and, per scanned table, what was read and what was pushed down."""
    text, tables = run_explain(statements, flink_config, extra_jars=extra_jars)
    plan = optimized_plan(text)
    return PlanInsight(plan=plan, scans=scan_insights(plan, tables, wide_table_columns))


def explain_script(statements: Sequence[str], flink_config: dict[str, Any], script: str, where: str) -> PlanInsight:
    """:func:`explain` for a task's script, an error naming the statement in ``where`` (the task's ``.sql`` file
    or "the task's SQL") as the user wrote it."""
    try:
        return explain(statements, flink_config)
    except ExplainError as err:
        message = describe_rejection(str(err), script, where, statement_offset=err.statement_offset)
        raise ExplainError(f"EXPLAIN failed, nothing was submitted: {message}") from None
