"""The handlers of ``flinkbatch validate | render | new | test | avro`` (the parser is in :mod:`.cli`).

This module is loaded for the spec command that runs, not for ``flinkbatch --help``: it pulls in the spec models,
Airflow's template sandbox and the REST client. Exit codes: 0 fine, 1 problems found / tests failed, 2 bad usage
(no such file).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from airflow_provider_flinkbatch.specs.avro import check_compatibility, create_table_ddl, flink_columns, load_schema
from airflow_provider_flinkbatch.specs.load import load_specs
from airflow_provider_flinkbatch.specs.render import render_spec
from airflow_provider_flinkbatch.specs.scaffold import scaffold
from airflow_provider_flinkbatch.specs.testing import SpecTestRunner, summary_line
from airflow_provider_flinkbatch.specs.validate import LOCAL_CLUSTER_FROM, validate_specs
from airflow_provider_flinkbatch.sql.factories import parse_with


def _load(path: str) -> Any:
    try:
        return load_specs(path)
    except FileNotFoundError as err:
        raise ValueError(str(err)) from err


def _print_errors(errors: list[Any]) -> None:
    for error in errors:
        print(f"ERROR {error}")


# ---------------------------------------------------------------------------------------------- validate
def validate(args: argparse.Namespace) -> int:
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
def render(args: argparse.Namespace) -> int:
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
def new_spec(args: argparse.Namespace) -> int:
    for path in scaffold(args.name, Path(args.dir), force=args.force):
        print(f"created {path}")
    print(f"next: edit the SQL and the test rows, then `flinkbatch test {Path(args.dir) / (args.name + '.yaml')}`")
    return 0


# ---------------------------------------------------------------------------------------------- test
def run_test_cases(args: argparse.Namespace) -> int:
    specs = _load(args.path)
    _print_errors(specs.errors)
    wanted = [spec for spec in specs.specs if args.name is None or spec.name == args.name]
    results = []
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
def avro_ddl(args: argparse.Namespace) -> int:
    schema = load_schema(Path(args.schema))
    if args.table:
        print(create_table_ddl(args.table, schema, options=dict(_pairs(args.option))))
    else:
        print(",\n".join(f"{name} {kind}" for name, kind in flink_columns(schema)))
    return 0


def avro_check(args: argparse.Namespace) -> int:
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
