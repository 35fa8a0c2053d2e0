"""``flinkbatch explain <script.sql>``: plan a script in a local JVM and print the plan and its insight.

The command line loads this module only for ``explain``: the planner's client side (runner jar,
connector jars) is not needed for ``flinkbatch --help`` or the other commands.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from airflow_provider_flinkbatch.plan.explain import ExplainError, explain
from airflow_provider_flinkbatch.presets import apply_presets, config_pairs
from airflow_provider_flinkbatch.sql.errors import describe_rejection
from airflow_provider_flinkbatch.sql.statements import split_statements


def explain_command(args: argparse.Namespace) -> int:
    path = Path(args.sql_file)
    if not path.is_file():
        raise ValueError(f"{path}: no such SQL file")
    config = apply_presets(args.preset, config_pairs(args.config))
    script = path.read_text()
    try:
        insight = explain(split_statements(script), config, extra_jars=args.jar, wide_table_columns=args.wide)
    except ExplainError as err:
        message = describe_rejection(str(err), script, str(path), statement_offset=err.statement_offset)
        print(f"flinkbatch: Flink rejected the SQL: {message}", file=sys.stderr)
        return 1
    if args.json:
        print(insight.model_dump_json(indent=2))
    else:
        print("== Optimized Physical Plan ==")
        print(insight.plan)
        print()
        print("== Plan insight ==")
        print(insight.describe())
    return 4 if insight.warnings and args.check == "fail" else 0
