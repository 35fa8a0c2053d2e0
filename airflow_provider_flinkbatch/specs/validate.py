"""``flinkbatch validate``: everything that can be checked about specs before a job runs.

Per spec, in order of cost:

1. the spec loads (fields, types, defaults, presets, cross-spec rules: :mod:`.load`, :mod:`.checks`);
2. its DAG builds (the operator's own parse-time checks) and its SQL template renders, for the spec's
   params and for each test case's;
3. declared ``sources``/``sinks`` and the tables the tests name are tables the SQL reads/writes;
4. the connection exists and is well-formed (Airflow env vars / secrets backends, as at run time); one
   not defined in this shell is not an error: ``flink_batch_default`` then means the running local cluster
   (``flinkbatch local up``, the demo's), which the SQL is planned on; any other is skipped, saying how to
   define it;
5. Avro: declared schemas parse, and a ``latest_avro_schema`` is compatible with the job's schema;
6. Flink's planner accepts the SQL: client-side ``EXPLAIN`` in a local JVM. By default the tables are
   planned as local filesystem tables (as in ``flinkbatch test``) so a connector jar missing on this
   machine does not hide the real question, whether the SQL is valid; ``real_connectors`` plans as written.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_flinkbatch.identity import JobIdentity, identity_option_problems
from airflow_provider_flinkbatch.jobs import submission_failure_message
from airflow_provider_flinkbatch.lineage import job_lineage
from airflow_provider_flinkbatch.local.connection import connection_state, local_cluster_for
from airflow_provider_flinkbatch.plan.explain import ExplainError, run_explain
from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkServerError
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.specs.avro import (
    AvroSchemaError,
    check_compatibility,
    load_schema,
    sql_column_problems,
)
from airflow_provider_flinkbatch.specs.effective import SpecRenderError, effective_flink_config, render_sql
from airflow_provider_flinkbatch.specs.errors import SpecError, relative
from airflow_provider_flinkbatch.specs.files import SpecPathError
from airflow_provider_flinkbatch.specs.load import SpecSet
from airflow_provider_flinkbatch.specs.model import JobSpec
from airflow_provider_flinkbatch.specs.tables import declared_tables, rewrite_to_local
from airflow_provider_flinkbatch.specs.testing import SpecTestRunner, rest_settings
from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest

#: From this many scripts to plan (and no --rest-url), validate starts a private local cluster to plan on.
LOCAL_CLUSTER_FROM = 4


@dataclass
class SpecReport:
    """What validate found for one spec."""

    name: str
    file: str
    errors: list[SpecError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.errors:
            return f"OK    {self.name} ({self.file})" + (": " + "; ".join(self.notes) if self.notes else "")
        return "\n".join(f"ERROR {error}" for error in self.errors)


@dataclass
class ValidationReport:
    specs: list[SpecReport] = field(default_factory=list)
    load_errors: list[SpecError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.load_errors and all(not report.errors for report in self.specs)

    def summary(self) -> str:
        bad_files = {error.file for error in self.load_errors} | {r.file for r in self.specs if r.errors}
        total = len({r.file for r in self.specs} | {error.file for error in self.load_errors})
        return f"{total} spec(s): {total - len(bad_files)} valid, {len(bad_files)} with errors"


def _static_checks(spec: JobSpec, root: Path) -> tuple[list[SpecError], list[str], list[str]]:
    """Render, split, lineage and test-table checks. Returns (errors, notes, statements)."""
    file = relative(spec.path, root)
    errors: list[SpecError] = []
    try:
        statements = split_statements(render_sql(spec))
        for case in spec.test_cases:
            if case.params or case.logical_date:
                render_sql(spec, case.logical_date, case.params)
    except SpecRenderError as err:
        return [SpecError(file, ("sql",), str(err).split(": sql: ", 1)[-1])], [], []
    except SqlScriptError as err:
        return [SpecError(file, ("sql",), str(err))], [], []
    lineage = job_lineage(statements)
    reads = {table.table.lower(): table.table for table in lineage.inputs}
    writes = {table.table.lower(): table.table for table in lineage.outputs}
    for kind, refs, known in (("sources", spec.sources, reads), ("sinks", spec.sinks, writes)):
        verb = "reads" if kind == "sources" else "writes"
        for index, ref in enumerate(refs):
            if ref.table.lower() not in known:
                listed = ", ".join(known.values()) or "no declared table"
                errors.append(SpecError(file, (kind, index), f"{ref.table!r}: the SQL {verb} {listed}"))
    declared = declared_tables(statements)
    for index, case in enumerate(spec.test_cases):
        for name in case.inputs:
            if name.lower() not in declared:
                names = ", ".join(t.name for t in declared.values()) or "none"
                errors.append(
                    SpecError(file, ("tests", index, "inputs", name), f"the SQL declares no such table ({names})")
                )
        for name in case.expected:
            if name.lower() not in writes:
                errors.append(
                    SpecError(
                        file,
                        ("tests", index, "expected", name),
                        f"not a sink of the SQL (sinks: {', '.join(writes.values()) or 'none'})",
                    )
                )
    read_names, write_names = ", ".join(reads.values()) or "-", ", ".join(writes.values()) or "-"
    notes = [f"{len(statements)} statements, reads {read_names}, writes {write_names}"]
    notes.append(f"{len(spec.test_cases)} test case(s)" if spec.test_cases else "no test cases")
    return errors, notes, statements


@dataclass
class ConnectionCheck:
    """The outcome of looking a connection up once: a problem (an error), or a note on what was used/skipped."""

    problem: str | None = None
    note: str | None = None
    local_rest_url: str | None = None


def check_connection(conn_id: str) -> ConnectionCheck:
    """Look the connection up as a task would. Not defined here (a developer's shell): use the running local
    cluster for ``flink_batch_default``, else skip the check and say how to provide the connection."""
    state = connection_state(conn_id)
    if state == "defined":
        return ConnectionCheck()
    if state != "undefined":
        return ConnectionCheck(problem=state)
    local = local_cluster_for(conn_id)
    if local is not None:
        return ConnectionCheck(
            note=f"connection {conn_id!r} is not defined in this shell: using the local cluster at {local.rest_url} "
            "(flinkbatch local up)",
            local_rest_url=None if local.tls_dir else local.rest_url,
        )
    return ConnectionCheck(
        note=f"connection {conn_id!r} is not defined in this shell: skipped the connection check; define it with "
        f'AIRFLOW_CONN_{conn_id.upper()}=\'{{"conn_type": "flink_batch", "host": "http://<jobmanager>:8081"}}\''
        + (" or start the local cluster (flinkbatch local up)" if conn_id == "flink_batch_default" else "")
        + ", or pass --no-connections"
    )


def _avro_errors(spec: JobSpec, file: str, statements: list[str]) -> tuple[list[SpecError], list[str]]:
    errors: list[SpecError] = []
    notes: list[str] = []
    declared = declared_tables(statements)
    for kind, refs in (("sources", spec.sources), ("sinks", spec.sinks)):
        for index, ref in enumerate(refs):
            if not ref.avro_schema:
                continue
            try:
                schema = load_schema(spec.resolve(ref.avro_schema))
            except (AvroSchemaError, SpecPathError) as err:
                errors.append(SpecError(file, (kind, index, "avro_schema"), str(err)))
                continue
            table = declared.get(ref.table.lower())
            if table is not None:
                errors += [
                    SpecError(file, (kind, index, "avro_schema"), problem)
                    for problem in sql_column_problems(table.columns, schema)
                ]
            if not ref.latest_avro_schema:
                continue
            try:
                latest = load_schema(spec.resolve(ref.latest_avro_schema))
            except (AvroSchemaError, SpecPathError) as err:
                errors.append(SpecError(file, (kind, index, "latest_avro_schema"), str(err)))
                continue
            # The job holds the old schema, producers moved to the latest: forward = the job reads new data.
            verdict = check_compatibility(schema, latest, ref.compatibility)
            if verdict.compatible:
                notes.append(f"{ref.table}: latest Avro schema is {ref.compatibility}-compatible")
            else:
                errors.append(
                    SpecError(
                        file,
                        (kind, index, "latest_avro_schema"),
                        f"{ref.latest_avro_schema} is not {ref.compatibility}-compatible with {ref.avro_schema}: "
                        + "; ".join(verdict.problems),
                    )
                )
    return errors, notes


def _plan_on_cluster(rest_url: str) -> Callable[[list[str], dict[str, str]], None]:
    """Plan with ``POST /jars/<runner>/plan`` on a running session cluster: Flink's planner, no job, ~0.3 s
    per script instead of a ~10 s JVM start per script. Raises ValueError with Flink's message."""
    target = SessionTarget(FlinkRestClient(rest_settings(rest_url), RetryPolicy(budget=30.0)), "validate")

    def plan(statements: list[str], config: dict[str, str]) -> None:
        body = target.run_body(_request_for_plan(statements, config))
        body.pop("jobId", None)
        call = ApiCall(
            "POST", f"/jars/{target.runner_jar_id()}/plan", lambda answer: answer, json=body, idempotent=False
        )
        try:
            target.client.call(call)
        except FlinkServerError as err:
            raise ValueError(f"Flink rejects the SQL: {submission_failure_message(err.errors or [str(err)])}") from err

    return plan


def _request_for_plan(statements: list[str], config: dict[str, str]) -> Any:
    identity = JobIdentity(dag_id="flinkbatch-validate", task_id="plan", run_id=uuid.uuid4().hex, fingerprint="0" * 16)
    return JobRequest(statements=statements, flink_config=config, job_name="flinkbatch-validate", identity=identity)


def _explain_error(
    statements: Sequence[str],
    config: dict[str, str],
    jars: Sequence[str],
    real: bool,
    planner: Callable[[list[str], dict[str, str]], None] | None = None,
) -> str | None:
    folder = Path(tempfile.mkdtemp(prefix="flinkbatch-validate-"))
    try:
        script = list(statements)
        if not real:
            script, tables = rewrite_to_local(statements, folder)
            for table in tables.values():
                assert table.path is not None
                table.path.mkdir(parents=True, exist_ok=True)
        if planner is not None:
            planner(script, config)
        else:
            run_explain(script, config, extra_jars=jars)
        return None
    except ExplainError as err:
        return f"Flink rejects the SQL: {err}"
    except ValueError as err:
        return str(err)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def validate_specs(
    specs: SpecSet,
    *,
    explain: bool = True,
    check_connections: bool = True,
    extra_jars: Sequence[str] = (),
    real_connectors: bool = False,
    workers: int = 2,
    rest_url: str | None = None,
    local_cluster_from: int = LOCAL_CLUSTER_FROM,
    progress: Callable[[str], Any] | None = None,
) -> ValidationReport:
    """Validate every spec of a loaded folder; see the module docstring for what is checked."""
    say = progress or (lambda line: None)
    report = ValidationReport(load_errors=list(specs.errors))
    for error in specs.errors:
        say(f"ERROR {error}")
    from airflow_provider_flinkbatch.specs.factory import build_from  # builds DAGs: needs Airflow

    _, failed = build_from(specs)
    connections: dict[str, ConnectionCheck] = {}
    pending: list[tuple[SpecReport, list[str], dict[str, str]]] = []
    for spec in specs.specs:
        file = relative(spec.path, specs.root)
        spec_report = SpecReport(name=spec.name, file=file)
        report.specs.append(spec_report)
        spec_report.errors += failed.get(spec.path, [])
        errors, notes, statements = _static_checks(spec, specs.root)
        spec_report.errors += errors
        spec_report.notes += notes
        if statements:  # what a run refuses before submitting (docs/identity.md)
            for problem in identity_option_problems(statements, effective_flink_config(spec)):
                where = ("flink_config",) if problem.startswith("flink_config") else ("sql",)
                spec_report.errors.append(SpecError(file, where, problem))
        sql_ok = not spec_report.errors  # a missing connection does not stop the SQL from being planned
        if check_connections:
            if spec.flink_conn_id not in connections:
                connections[spec.flink_conn_id] = check_connection(spec.flink_conn_id)
                if connections[spec.flink_conn_id].note:
                    say(str(connections[spec.flink_conn_id].note))  # once per connection, not per spec
            checked = connections[spec.flink_conn_id]
            if checked.problem:
                spec_report.errors.append(SpecError(file, ("flink_conn_id",), checked.problem))
            elif checked.note:
                spec_report.notes.append(
                    "connection: local cluster" if checked.local_rest_url else "connection check skipped"
                )
        if statements and (spec.sources or spec.sinks):
            avro_errors, avro_notes = _avro_errors(spec, file, statements)
            spec_report.errors += avro_errors
            spec_report.notes += avro_notes
        if explain and statements and sql_ok:
            pending.append((spec_report, statements, effective_flink_config(spec)))
        else:
            say(spec_report.describe())
    if not pending:
        return report
    cluster = None
    local_rest_urls = {checked.local_rest_url for checked in connections.values() if checked.local_rest_url}
    if rest_url is None and not real_connectors and not extra_jars and local_rest_urls:
        rest_url = sorted(local_rest_urls)[0]  # the demo's cluster is up: plan there (~0.3 s a spec, no JVM each)
        say(f"Planning {len(pending)} spec(s) on the local cluster at {rest_url}")
    if rest_url is None and not real_connectors and not extra_jars and len(pending) >= local_cluster_from:
        # Many scripts: one private cluster (~15 s to start, ~0.3 s per plan) beats a JVM per script (~10 s each).

        cluster = SpecTestRunner()
        cluster.target()
        rest_url = cluster.rest_url
        say(f"Planning {len(pending)} specs on a private local Flink cluster at {rest_url}")
    try:
        _plan_all(pending, rest_url, extra_jars, real_connectors, workers, say)
    finally:
        if cluster is not None:
            cluster.close()
    return report


def _plan_all(
    pending: list[tuple[SpecReport, list[str], dict[str, str]]],
    rest_url: str | None,
    extra_jars: Sequence[str],
    real_connectors: bool,
    workers: int,
    say: Callable[[str], Any],
) -> None:
    planner = _plan_on_cluster(rest_url) if rest_url else None
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [
            (spec_report, pool.submit(_explain_error, statements, config, extra_jars, real_connectors, planner))
            for spec_report, statements, config in pending
        ]
        for spec_report, future in futures:
            problem = future.result()
            if problem:
                spec_report.errors.append(SpecError(spec_report.file, ("sql",), problem))
            else:
                spec_report.notes.append("Flink planned it (" + ("on the cluster" if planner else "EXPLAIN") + ")")
            say(spec_report.describe())
