"""Row comparison: order-insensitive, tolerant of number/timestamp formats, strict about real differences."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from airflow_provider_flinkbatch.specs.rows import compare


def test_formats_that_mean_the_same_value_match() -> None:
    expected = [
        {"n": 120.5, "ts": dt.datetime(2026, 3, 1, 10, 0), "d": dt.date(2026, 3, 1), "nested": {"b": 1, "a": [1, 2]}},
        {"n": 3, "ts": "2026-03-01T10:00:00Z", "d": "2026-03-01", "nested": None},
    ]
    actual = [  # what Flink's JSON writer produces, in another order
        {"n": 3, "ts": "2026-03-01 10:00:00", "d": "2026-03-01", "nested": None},
        {"n": Decimal("120.50"), "ts": "2026-03-01 10:00:00.000", "d": "2026-03-01", "nested": {"a": [1, 2], "b": 1}},
    ]
    assert compare("t", ["n", "ts", "d", "nested"], expected, actual).ok


def test_duplicates_count_and_differences_are_shown_per_column() -> None:
    diff = compare(
        "t",
        ["k", "v", "loaded_at"],
        [{"k": "a", "v": 1, "loaded_at": None}, {"k": "a", "v": 1, "loaded_at": None}, {"k": "b", "v": 2}],
        [
            {"k": "a", "v": 1, "loaded_at": "now"},
            {"k": "b", "v": 3, "loaded_at": "now"},
            {"k": "c", "v": 9, "loaded_at": "now"},
        ],
        ignore=["loaded_at"],
    )
    assert diff.describe() == "\n".join(
        [
            "  t: 3 row(s) expected, 3 produced; 2 missing, 2 unexpected",
            "    - k=a, v=1",
            "    - k=b, v=2",
            "    + k=b, v=3",
            "        v: expected 2, got 3",
            "    + k=c, v=9",
            "    (- expected but not produced, + produced but not expected)",
        ]
    )
