"""``flinkbatch validate | render | new | test | avro``: the job-spec commands' parser.

Kept out of :mod:`airflow_provider_flinkbatch.cli` (which only calls :func:`register`) so the spec
commands live next to the code they drive; their handlers are in :mod:`.commands`, loaded for the
command that runs (they pull in the spec models, Airflow's template sandbox and the REST client), not
for ``flinkbatch --help``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def _commands() -> ModuleType:
    from airflow_provider_flinkbatch.specs import commands

    return commands


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
    validate.set_defaults(func=lambda args: _commands().validate(args))

    render = commands.add_parser(
        "render", help="print a spec's effective SQL, Flink config (after defaults and presets) and operator arguments"
    )
    render.add_argument("spec", help="a spec file (or a folder, with --name)")
    render.add_argument("--name", help="the spec to render when given a folder")
    render.add_argument("--logical-date", help="render templates for this date (default: the spec's start_date)")
    render.add_argument("--json", action="store_true", help="print JSON")
    render.set_defaults(func=lambda args: _commands().render(args))

    new = commands.add_parser("new", help="scaffold a spec, its SQL and a test fixture")
    new.add_argument("name", help="job name (letters, digits, _ - .)")
    new.add_argument("--dir", default=".", help="the spec folder (default: current directory)")
    new.add_argument("--force", action="store_true", help="overwrite existing files")
    new.set_defaults(func=lambda args: _commands().new_spec(args))

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
    test.set_defaults(func=lambda args: _commands().run_test_cases(args))

    avro = commands.add_parser("avro", help="Avro schema tools: Flink DDL and compatibility checks")
    avro_commands = avro.add_subparsers(dest="avro_command", required=True)
    ddl = avro_commands.add_parser("ddl", help="the Flink column list (or CREATE TABLE) for an .avsc schema")
    ddl.add_argument("schema", help="the .avsc file")
    ddl.add_argument("--table", help="print a full CREATE TABLE with this name")
    ddl.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="WITH option (with --table)")
    ddl.set_defaults(func=lambda args: _commands().avro_ddl(args))
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
    check.set_defaults(func=lambda args: _commands().avro_check(args))
