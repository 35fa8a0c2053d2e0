"""The SQL runner: a small Java main class that executes a split SQL script as one Flink batch job."""

from airflow_provider_flinkbatch.runner.build import (
    RUNNER_MAIN_CLASS,
    RunnerJar,
    ensure_runner_jar,
    runner_program_args,
    runner_statements_file,
)

__all__ = ["RUNNER_MAIN_CLASS", "RunnerJar", "ensure_runner_jar", "runner_program_args", "runner_statements_file"]
