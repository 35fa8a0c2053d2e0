"""``flinkbatch validate | render | new | test | avro``: the job-spec commands.

Kept out of :mod:`airflow_provider_flinkbatch.cli` (which only calls :func:`register`) so the spec
commands live next to the code they drive. Exit codes: 0 fine, 1 problems found / tests failed,
2 bad usage (no such file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


def _load(path: str) -> Any:
    # The spec models (pydantic, YAML) load for the command that runs, not for --help.
    from airflow_provider_flinkbatch.specs.load import load_specs

    try:
        return load_specs(path)
    except FileNotFoundError as err:
        raise ValueError(str(err)) from err


def _print_errors(errors: list[Any]) -> None:
    for error in errors:
        print(f"ERROR {error}")


# ---------------------------------------------------------------------------------------------- validate
def _cmd_validate(args: argparse.Namespace) -> int:
    # validate loads Airflow and the REST client: for `validate` only, not for --help.
    from airflow_provider_flinkbatch.specs.validate import LOCAL_CLUSTER_FROM, validate_specs

    report = validate_specs(
        _load(args.path),
        explain=not args.no_explain,
        check_connections=not args.no_connections,
        extra_jars=args.jar,
        real_connectors=args.real_connectors,
        workers=args.workers,
        rest_url=args.rest_url,
        local_cluster_from=10**9 if args.explain_locally else LOCAL_CLUSTER_FROM,
        progress=lambda line: print(line, flush=True),
    )
    print(report.summary())
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------------------------- render
def _cmd_render(args: argparse.Namespace) -> int:
    # The targets' rendering loads for `render` only, not for --help.
    from airflow_provider_flinkbatch.specs.render import render_spec

    specs = _load(args.spec)
    if specs.errors:
        _print_errors(specs.errors)
        return 1
    wanted = [spec for spec in specs.specs if args.name is None or spec.name == args.name]
    if not wanted:
        print(f"flinkbatch: no spec named {args.name!r} in {args.spec}", file=sys.stderr)
        return 2
    for spec in wanted:
        print(render_spec(spec, logical_date=args.logical_date, as_json=args.json, others=specs.specs))
    return 0


# ---------------------------------------------------------------------------------------------- new
def _cmd_new(args: argparse.Namespace) -> int:
    # The spec models load for `new` only, not for --help.
    from airflow_provider_flinkbatch.specs.scaffold import scaffold

    for path in scaffold(args.name, Path(args.dir), force=args.force):
        print(f"created {path}")
    print(f"next: edit the SQL and the test rows, then `flinkbatch test {Path(args.dir) / (args.name + '.yaml')}`")
    return 0


# ---------------------------------------------------------------------------------------------- test
def _cmd_test(args: argparse.Namespace) -> int:
    # The test runner (a local cluster, the REST client) loads for `test` only, not for --help.
    from airflow_provider_flinkbatch.specs.testing import SpecTestRunner, summary_line

    specs = _load(args.path)
    _print_errors(specs.errors)
    wanted = [spec for spec in specs.specs if args.name is None or spec.name == args.name]
    results = []
    # The connector table (pydantic) loads for `test --with` only.
    from airflow_provider_flinkbatch.sql.factories import parse_with

    with SpecTestRunner(
        args.rest_url,
        parallelism=args.parallelism,
        keep_dir=Path(args.keep) if args.keep else None,
        with_jars=parse_with(args.with_jars),
    ) as runner:
        if args.rest_url is None and any(spec.test_cases for spec in wanted):
            started = time.monotonic()
            runner.target()  # start the private cluster now, so the first case's time is its own
            print(f"Started a local Flink cluster at {runner.rest_url} ({time.monotonic() - started:.0f}s)", flush=True)
        for spec in wanted:
            for case in spec.test_cases:
                if args.case is not None and case.name != args.case:
                    continue
                result = runner.run_case(spec, case)
                results.append(result)
                print(result.describe(), flush=True)
    untested = [spec.name for spec in wanted if not spec.test_cases]
    if untested and args.case is None:
        print(f"no test cases: {', '.join(untested)}")
    print(summary_line(results) + (f", {len(specs.errors)} spec error(s)" if specs.errors else ""))
    return 0 if results and all(r.passed for r in results) and not specs.errors else 1


# ---------------------------------------------------------------------------------------------- avro
def _cmd_avro_ddl(args: argparse.Namespace) -> int:
    # fastavro (optional extra [avro]) loads for `avro` commands only.
    from airflow_provider_flinkbatch.specs.avro import create_table_ddl, flink_columns, load_schema

    schema = load_schema(Path(args.schema))
    if args.table:
        print(create_table_ddl(args.table, schema, options=dict(_pairs(args.option))))
    else:
        print(",\n".join(f"{name} {kind}" for name, kind in flink_columns(schema)))
    return 0


def _cmd_avro_check(args: argparse.Namespace) -> int:
    # fastavro (optional extra [avro]) loads for `avro` commands only.
    from airflow_provider_flinkbatch.specs.avro import check_compatibility, load_schema

    result = check_compatibility(load_schema(Path(args.old)), load_schema(Path(args.new)), args.mode, args.reader)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        print(result.describe())
    return 0 if result.compatible else 1


def _pairs(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--option {item!r}: write it as key=value, e.g. --option connector=kafka")
        pairs.append((key.strip(), value.strip()))
    return pairs


def register(commands: Any) -> None:
    """Add the spec subcommands to ``flinkbatch``'s subparsers."""
    validate = commands.add_parser(
        "validate",
        help="check job specs: fields, defaults, templates, presets, connections, Avro evolution, and the SQL "
        "with Flink's planner (EXPLAIN in a local JVM)",
    )
    validate.add_argument("path", help="a spec folder or one spec file")
    validate.add_argument("--no-explain", action="store_true", help="skip planning the SQL with Flink")
    validate.add_argument("--no-connections", action="store_true", help="skip the Airflow connection lookup")
    validate.add_argument(
        "--real-connectors",
        action="store_true",
        help="plan with the tables' real connectors (Parquet, Avro and Kafka jars come from the jar cache, others "
        "with --jar); default: tables are planned as local filesystem tables, so only the SQL is judged",
    )
    validate.add_argument("--jar", action="append", default=[], help="extra jar for connectors/formats")
    validate.add_argument(
        "--rest-url",
        help="plan on this Flink session cluster (POST /jars/<runner>/plan: ~0.3 s per spec) instead of a local JVM "
        "per spec (~10 s)",
    )
    validate.add_argument(
        "--explain-locally",
        action="store_true",
        help="always plan with a local JVM per spec; by default, from 4 specs on, a private local cluster is "
        "started to plan on (faster)",
    )
    validate.add_argument("--workers", type=int, default=2, help="EXPLAIN JVMs run in parallel (default 2)")
    validate.set_defaults(func=_cmd_validate)

    render = commands.add_parser(
        "render", help="print a spec's effective SQL, Flink config (after defaults and presets) and operator arguments"
    )
    render.add_argument("spec", help="a spec file (or a folder, with --name)")
    render.add_argument("--name", help="the spec to render when given a folder")
    render.add_argument("--logical-date", help="render templates for this date (default: the spec's start_date)")
    render.add_argument("--json", action="store_true", help="print JSON")
    render.set_defaults(func=_cmd_render)

    new = commands.add_parser("new", help="scaffold a spec, its SQL and a test fixture")
    new.add_argument("name", help="job name (letters, digits, _ - .)")
    new.add_argument("--dir", default=".", help="the spec folder (default: current directory)")
    new.add_argument("--force", action="store_true", help="overwrite existing files")
    new.set_defaults(func=_cmd_new)

    test = commands.add_parser(
        "test", help="run specs' test cases: the real SQL on a local Flink cluster against the test rows"
    )
    test.add_argument("path", help="a spec folder or one spec file")
    test.add_argument("--name", help="only this spec")
    test.add_argument("--case", help="only this test case")
    test.add_argument("--rest-url", help="a running Flink session cluster (default: start a private local one)")
    test.add_argument("--parallelism", type=int, default=1, help="parallelism.default for the test jobs")
    test.add_argument("--keep", help="keep each case's tables (inputs and outputs) under this folder")
    test.add_argument(
        "--with",
        dest="with_jars",
        action="append",
        default=[],
        metavar="parquet,avro,kafka",
        help="connector/format jars for the private cluster (tests swap tables for local JSON, so rarely needed)",
    )
    test.set_defaults(func=_cmd_test)

    avro = commands.add_parser("avro", help="Avro schema tools: Flink DDL and compatibility checks")
    avro_commands = avro.add_subparsers(dest="avro_command", required=True)
    ddl = avro_commands.add_parser("ddl", help="the Flink column list (or CREATE TABLE) for an .avsc schema")
    ddl.add_argument("schema", help="the .avsc file")
    ddl.add_argument("--table", help="print a full CREATE TABLE with this name")
    ddl.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="WITH option (with --table)")
    ddl.set_defaults(func=_cmd_avro_ddl)
    check = avro_commands.add_parser(
        "check", help="is the new schema compatible with the old one? (Avro schema resolution rules)"
    )
    check.add_argument("old", help="the old .avsc")
    check.add_argument("new", help="the new .avsc")
    check.add_argument(
        "--mode",
        choices=["backward", "forward", "full"],
        default="backward",
        help="backward: new readers read old data (default); forward: old readers read new data; full: both",
    )
    check.add_argument(
        "--reader",
        choices=["flink", "avro"],
        default="flink",
        help="flink: the reader is Flink's avro format, which reads with a schema derived from the table's columns "
        "(no defaults, aliases or enums; default); avro: the reader uses the .avsc itself (other Avro consumers)",
    )
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.set_defaults(func=_cmd_avro_check)
