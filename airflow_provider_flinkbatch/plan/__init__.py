"""Plan insight: what Flink's optimizer pushed into each scan (columns, filters, partitions)."""

PLAN_CHECK_MODES = ("warn", "fail")


def check_plan_mode(plan_check: str) -> str:
    """The operator's ``plan_check``, checked when the DAG is parsed (so a typo fails the import, not the run)."""
    if plan_check not in PLAN_CHECK_MODES:
        raise ValueError(f"plan_check={plan_check!r}: use 'warn' (log plan warnings) or 'fail' (fail the task)")
    return plan_check
