"""Run a spec's test cases: its exact SQL on a real local Flink cluster, against the test's rows.

For each case: render the spec's SQL (its params + the case's), swap every declared table for a local
JSON table in a scratch folder (:mod:`.tables`), write the case's input rows, submit the script as the
operator would (same runner jar, same session target, one batch job), wait, read what the sinks
wrote and compare with the expected rows, order-insensitively (:mod:`.rows`).

What differs from production, on purpose: table storage (local JSON files), cluster-level presets
(``celeborn``, ``adaptive-batch``, ...: a session cluster cannot apply them per job) and
``parallelism.default`` (1 unless asked otherwise: results must not depend on it, and a laptop has few slots).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint, normalize_flink_config
from airflow_provider_flinkbatch.jobs import root_cause_from_exceptions
from airflow_provider_flinkbatch.lineage import job_lineage
from airflow_provider_flinkbatch.local import LocalCluster
from airflow_provider_flinkbatch.local.jars import connector_jars
from airflow_provider_flinkbatch.presets import PRESETS, apply_presets
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.state import JobState
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.specs.effective import SpecRenderError, flink_config, render_sql
from airflow_provider_flinkbatch.specs.model import JobSpec, SpecTest
from airflow_provider_flinkbatch.specs.rows import (
    RowsError,
    TableDiff,
    check_columns,
    compare,
    load_rows,
    read_output,
    write_input,
)
from airflow_provider_flinkbatch.specs.tables import TableRewriteError, rewrite_to_local
from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest, SubmissionRejected

DEFAULT_TIMEOUT = 300.0


@dataclass
class CaseResult:
    """The outcome of one test case."""

    spec: str
    case: str
    passed: bool
    diffs: list[TableDiff] = field(default_factory=list)
    error: str | None = None
    job_id: str | None = None
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return f"{self.spec}::{self.case}"

    def describe(self) -> str:
        job = f"job {self.job_id}, " if self.job_id else ""
        head = f"{'PASS' if self.passed else 'FAIL'} {self.title} ({job}{self.seconds:.1f}s)"
        lines = [head]
        if self.error:
            lines += ["  " + line for line in self.error.splitlines()]
        if not self.passed:
            lines += [diff.describe() for diff in self.diffs]
        return "\n".join(lines)


def test_flink_config(spec: JobSpec, parallelism: int = 1) -> dict[str, str]:
    """The spec's effective config without cluster-level presets, at the test parallelism."""
    per_job = [name for name in spec.presets if not PRESETS[name].cluster_level]
    config = normalize_flink_config(apply_presets(per_job, flink_config(spec)))
    config["parallelism.default"] = str(parallelism)
    return config


test_flink_config.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


class SpecTestRunner:
    """Runs spec tests on one Flink session cluster (given by URL, or a private local one it starts)."""

    __test__ = False  # keep pytest from collecting this class

    def __init__(
        self,
        rest_url: str | None = None,
        *,
        parallelism: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        keep_dir: Path | None = None,
        with_jars: list[str] | None = None,
    ) -> None:
        self.rest_url = rest_url
        self.parallelism = parallelism
        self.timeout = timeout
        self.keep_dir = keep_dir
        #: connector/format jars (``parquet``, ``avro``, ``kafka``) for the private cluster it starts
        self.with_jars = list(with_jars or [])
        self._cluster: Any = None
        self._cluster_dir: Path | None = None
        self._target: SessionTarget | None = None

    # ------------------------------------------------------------------ cluster
    def __enter__(self) -> SpecTestRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._target is not None:
            self._target.client.close()
            self._target = None
        if self._cluster is not None:
            self._cluster.down()
            self._cluster = None
        if self._cluster_dir is not None:
            shutil.rmtree(self._cluster_dir, ignore_errors=True)
            self._cluster_dir = None

    def target(self) -> SessionTarget:
        """The session target of the cluster (started on first use when no URL was given)."""
        if self._target is None:
            if self.rest_url is None:
                self._cluster_dir = Path(tempfile.mkdtemp(prefix="flinkbatch-spec-tests-"))
                jars = connector_jars(self.with_jars) if self.with_jars else []
                self._cluster = LocalCluster(self._cluster_dir, jars=jars)
                self.rest_url = self._cluster.up(timeout=180).rest_url
            client = FlinkRestClient(rest_settings(self.rest_url), RetryPolicy(budget=30.0))
            self._target = SessionTarget(client, "flinkbatch-spec-test")
        return self._target

    # ------------------------------------------------------------------ tests
    def run_spec(self, spec: JobSpec, only: str | None = None) -> list[CaseResult]:
        return [self.run_case(spec, case) for case in spec.test_cases if only is None or case.name == only]

    def run_case(self, spec: JobSpec, case: SpecTest) -> CaseResult:
        started = time.monotonic()
        result = CaseResult(spec=spec.name, case=case.name, passed=False)
        with self._scratch(spec, case) as folder:
            try:
                self._run_case(spec, case, folder, result)
            except Exception as err:
                if not isinstance(err, (SpecRenderError, RowsError, TableRewriteError, SqlScriptError, TimeoutError)):
                    raise
                result.error = str(err)
        result.seconds = time.monotonic() - started
        return result

    @contextmanager
    def _scratch(self, spec: JobSpec, case: SpecTest) -> Iterator[Path]:
        if self.keep_dir is not None:
            folder = self.keep_dir / spec.name / case.name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            yield folder
            return
        folder = Path(tempfile.mkdtemp(prefix=f"flinkbatch-test-{spec.name}-"))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _run_case(self, spec: JobSpec, case: SpecTest, folder: Path, result: CaseResult) -> None:
        statements = split_statements(render_sql(spec, case.logical_date, case.params))
        local, tables = rewrite_to_local(statements, folder)
        outputs = {table.table.lower() for table in job_lineage(statements).outputs}
        for name, data in case.inputs.items():
            table = tables.get(name.lower())
            if table is None:
                raise RowsError(f"inputs.{name}: the SQL declares no table {name!r} (declared: {_names(tables)})")
            rows = load_rows(data, spec.resolve)
            check_columns(table, rows, f"inputs.{name}")
            write_input(table, rows)
        expected: dict[str, Any] = {}
        for name, data in case.expected.items():
            table = tables.get(name.lower())
            if table is None or name.lower() not in outputs:
                raise RowsError(
                    f"expected.{name}: not a table the SQL inserts into (sinks: {', '.join(sorted(outputs)) or 'none'})"
                )
            rows = load_rows(data, spec.resolve)
            check_columns(table, rows, f"expected.{name}", data.ignore_columns)
            expected[name] = (table, rows, data.ignore_columns)
        for key, table in tables.items():  # sources without rows read an empty folder, not a missing path
            if key not in outputs and table.path is not None:
                table.path.mkdir(parents=True, exist_ok=True)
        error = self._submit_and_wait(spec, case, local, result)
        if error:
            result.error = error
            return

        result.diffs = [
            compare(table.name, table.column_names, rows, read_output(table), ignore)
            for table, rows, ignore in expected.values()
        ]
        result.passed = all(diff.ok for diff in result.diffs)

    def _submit_and_wait(self, spec: JobSpec, case: SpecTest, statements: list[str], result: CaseResult) -> str | None:
        """Submit like the operator does; ``None`` when the job FINISHED, else why it did not."""
        config = test_flink_config(spec, self.parallelism)
        name = f"test.{spec.name}.{case.name}"
        identity = JobIdentity(
            dag_id="flinkbatch-test",
            task_id=spec.name,
            run_id=uuid.uuid4().hex,
            fingerprint=fingerprint(statements, config),
        )
        request = JobRequest(statements=statements, flink_config=config, job_name=name, identity=identity)
        target = self.target()
        try:
            handle = target.submit(request)
        except SubmissionRejected as err:
            return f"Flink rejected the SQL: {err}"
        result.job_id = handle.job_id
        deadline = time.monotonic() + self.timeout
        while True:
            state = JobState.from_json(target.job_details(handle))
            if state.terminal:
                break
            if time.monotonic() > deadline:
                target.cancel(handle)
                raise TimeoutError(f"job {handle.job_id} still {state.state} after {self.timeout:.0f}s: cancelled")
            time.sleep(0.3)
        if state.succeeded:
            return None
        cause = root_cause_from_exceptions(target.job_exceptions(handle))
        return f"Flink job {state.state}: " + (cause.describe() if cause else "no exception recorded")


def rest_settings(rest_url: str) -> Any:
    """Connection settings for a bare REST URL (``--rest-url``), with a one-line error for a bad one."""
    try:
        return FlinkConnectionSettings(rest_url=rest_url)
    except ValidationError:
        raise ValueError(f"--rest-url {rest_url!r}: expected an http(s) URL like http://127.0.0.1:8081") from None


def _names(tables: dict[str, Any]) -> str:
    return ", ".join(table.name for table in tables.values()) or "none"


def run_tests(specs: list[JobSpec], runner: SpecTestRunner, only: str | None = None) -> list[CaseResult]:
    """Every test case of ``specs`` (``only``: one case name) on the runner's cluster."""
    results = []
    for spec in specs:
        results += runner.run_spec(spec, only)
    return results


run_tests.__test__ = False  # type: ignore[attr-defined]


def summary_line(results: list[CaseResult]) -> str:
    passed = sum(result.passed for result in results)
    failed = len(results) - passed
    return f"{passed} passed, {failed} failed" + ("" if results else " (no test cases found)")
