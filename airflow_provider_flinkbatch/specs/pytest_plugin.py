"""pytest plugin: run job-spec test cases inside a project's own test suite, one pytest test per case.

Opt in from a ``conftest.py`` (nothing is registered automatically)::

    pytest_plugins = ["airflow_provider_flinkbatch.specs.pytest_plugin"]

and parametrize a test over the cases of a spec folder::

    import pytest
    from airflow_provider_flinkbatch.specs.pytest_plugin import spec_test_cases

    @pytest.mark.parametrize(("spec", "case"), spec_test_cases("dags/specs"))
    def test_job_spec(flinkbatch_spec_runner, spec, case):
        flinkbatch_spec_runner.check(spec, case)  # fails with the row diff

The cluster: ``--flinkbatch-rest-url`` or ``$FLINKBATCH_TEST_REST_URL`` (a running session cluster), else
a private local cluster started once per session and stopped at its end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_flinkbatch.specs.errors import SpecValidationError
from airflow_provider_flinkbatch.specs.load import load_specs
from airflow_provider_flinkbatch.specs.model import JobSpec, SpecTest
from airflow_provider_flinkbatch.specs.testing import SpecTestRunner

REST_URL_ENV = "FLINKBATCH_TEST_REST_URL"


class PytestSpecRunner(SpecTestRunner):
    """A :class:`SpecTestRunner` whose :meth:`check` fails the current test with the readable diff."""

    def check(self, spec: JobSpec, case: SpecTest) -> None:
        result = self.run_case(spec, case)
        if not result.passed:
            pytest.fail(result.describe(), pytrace=False)


def spec_test_cases(folder: str | os.PathLike[str]) -> list[Any]:
    """``pytest.param(spec, case, id="spec::case")`` for every test case under ``folder``.

    Invalid specs fail collection with their messages (a broken spec must not look like "no tests").
    """
    specs = load_specs(Path(folder))
    if specs.errors:
        raise SpecValidationError(specs.errors)
    return [
        pytest.param(spec, case, id=f"{spec.name}::{case.name}") for spec in specs.specs for case in spec.test_cases
    ]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--flinkbatch-rest-url",
        default=None,
        help=f"Flink session cluster for job-spec tests (default: ${REST_URL_ENV}, else a private local cluster)",
    )


@pytest.fixture(scope="session")
def flinkbatch_spec_runner(request: pytest.FixtureRequest) -> Iterator[PytestSpecRunner]:
    """Runs spec test cases on one Flink cluster for the whole session."""
    rest_url = request.config.getoption("--flinkbatch-rest-url") or os.environ.get(REST_URL_ENV) or None
    runner = PytestSpecRunner(rest_url)
    try:
        yield runner
    finally:
        runner.close()
