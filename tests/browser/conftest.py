"""The browser check is opt-in: ``-m browser`` (or FLINKBATCH_BROWSER=1), not merely ``-m integration``.

Decided at collection, so a run that does not want it starts neither Flink nor Airflow for it.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "browser" in (config.getoption("markexpr") or "") or os.environ.get("FLINKBATCH_BROWSER") == "1":
        return
    skip = pytest.mark.skip(reason="browser check is opt-in: run with -m browser (or FLINKBATCH_BROWSER=1)")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)
