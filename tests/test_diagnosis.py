"""The classification table: categories, precedence, overrides, and the log block users read.

Real failures of each kind are produced on Flink in ``tests/history/test_history*.py``; these cases
add the ones a local cluster cannot produce on demand (heap exhaustion, a lost network partition),
using the exception lines Flink prints for them.
"""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.diagnosis import RULES, classify, diagnose


def exceptions_with(stacktrace: str, task: str | None = None) -> dict[str, object]:
    entry: dict[str, object] = {"exceptionName": "x", "stacktrace": stacktrace, "concurrentExceptions": []}
    if task:
        entry.update(taskName=task, endpoint="10.0.0.7:35001")
    return {"exceptionHistory": {"entries": [entry]}}


CHAIN = "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy\n\tat a.B.c(B.java:1)\n"


@pytest.mark.parametrize(
    ("root", "category", "retryable"),
    [
        ("java.lang.OutOfMemoryError: Java heap space", "out_of_memory", False),
        (
            "java.io.IOException: Insufficient number of network buffers: required 65, but only 32 available",
            "out_of_memory",
            False,
        ),
        (
            "org.apache.flink.runtime.io.network.partition.PartitionNotFoundException: Partition abc not found.",
            "resource_lost",
            True,
        ),
        (
            "org.apache.flink.runtime.jobmanager.scheduler.NoResourceAvailableException: Could not acquire the minimum required resources.",
            "resource_lost",
            True,
        ),
        (
            "org.apache.flink.runtime.io.network.netty.exception.RemoteTransportException: Connection unexpectedly closed by remote task manager '10.0.0.7/10.0.0.7:35001'.",
            "resource_lost",
            True,
        ),
        ("java.net.ConnectException: Connection refused", "io_error", True),
        # transient I/O stays retryable (the lines S3/HDFS clients and the JDK print for them)
        ("java.net.SocketException: Connection reset", "io_error", True),
        (
            "org.apache.hadoop.fs.s3a.AWSServiceThrottledException: getFileStatus on s3a://b/k: "
            "SlowDown: Please reduce your request rate.",
            "io_error",
            True,
        ),
        ("java.io.IOException: Broken pipe", "io_error", True),
        # the user's errors: a retry cannot make the file appear or readable
        (
            "java.io.FileNotFoundException: No such file or directory: s3a://bucket/orders/2026-11-01",
            "input_missing",
            False,
        ),
        (
            "java.nio.file.AccessDeniedException: s3a://bucket/orders: getFileStatus: 403 Forbidden",
            "permission_denied",
            False,
        ),
        (
            "org.apache.calcite.sql.validate.SqlValidatorException: Column 'x' not found in any table",
            "sql_error",
            False,
        ),
        ("java.lang.ArithmeticException: / by zero", "user_data_error", False),
        ("java.lang.IllegalStateException: something new", "unknown", True),
        (  # Celeborn's MasterClient (common/client/MasterClient.java) once no master answered
            "java.lang.IllegalStateException: After trying all the available Master Addresses(127.0.0.1:9097), an "
            "usable link still couldn't be created.",
            "shuffle_service_unavailable",
            False,
        ),
        (
            "java.lang.ClassNotFoundException: org.apache.celeborn.plugin.flink.RemoteShuffleServiceFactory",
            "shuffle_service_unavailable",
            False,
        ),
    ],
)
def test_categories(root: str, category: str, retryable: bool) -> None:
    result = diagnose("a" * 32, {"state": "FAILED"}, exceptions_with(CHAIN + "Caused by: " + root), source="t")
    assert (result.category, result.retryable) == (category, retryable)


def test_the_root_cause_wins_over_noise_in_the_chain() -> None:
    # a timeout further up the chain must not turn bad data into a "retryable" failure
    trace = (
        CHAIN
        + "Caused by: java.util.concurrent.TimeoutException: x\nCaused by: java.lang.NumberFormatException: For input string: 'x'"
    )
    assert (
        classify("FAILED", "java.lang.NumberFormatException: For input string: 'x'", trace).category
        == "user_data_error"
    )


def test_cancelled_without_exception() -> None:
    result = diagnose("a" * 32, {"state": "CANCELED"}, {"exceptionHistory": {"entries": []}}, source="t")
    assert (result.category, result.retryable, result.attempts) == ("cancelled", False, 0)


def test_overrides_per_category() -> None:
    oom = exceptions_with(CHAIN + "Caused by: java.lang.OutOfMemoryError: Java heap space")
    assert diagnose("a" * 32, {"state": "FAILED"}, oom, source="t", retry_on={"out_of_memory": True}).retryable


def test_unknown_override_category_is_rejected_when_the_dag_is_parsed() -> None:
    from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

    with pytest.raises(ValueError, match=r"unknown failure categories \['oom'\]; known: \[.*'out_of_memory'"):
        FlinkBatchSqlOperator(task_id="t", sql="SELECT 1", retry_on={"oom": True})


def test_every_rule_has_advice_and_patterns() -> None:
    assert all(rule.advice and rule.patterns for rule in RULES)
    assert len({rule.category for rule in RULES}) == len(RULES)


def test_log_block() -> None:
    trace = (
        CHAIN
        + "Caused by: java.lang.NumberFormatException: For input string: 'abc'\n\tat java.lang.Integer.parseInt(Integer.java:1)\n\tat org.apache.flink.table.X.toInt(X.java:9)\n"
    )
    result = diagnose(
        "b" * 32,
        {"state": "FAILED", "name": "daily", "duration": 4200},
        exceptions_with(trace, task="Source: orders[1] -> Calc[2] (2/4) - execution #0"),
        source="historyserver",
    )
    _, sentence = result.retry_plan(try_number=1, max_tries=2)
    block = result.describe({"Flink UI": "http://jm/#/job/completed/x/overview"}, retry=sentence)
    assert block.splitlines() == [
        f"Flink job {'b' * 32} (daily) ended FAILED after 4.2s",
        "  category     : user_data_error - the data does not fit the query: fix the input data or the CAST/parsing in the SQL",
        "  retried      : no, this failure is not retried; retry_on={'user_data_error': True} retries it",
        "  root cause   : java.lang.NumberFormatException: For input string: 'abc'",
        "                 at org.apache.flink.table.X.toInt(X.java:9)",
        "  vertex       : Source: orders[1] -> Calc[2] (subtask 2/4)",
        "  TaskManager  : 10.0.0.7:35001",
        "  attempts     : 1 failure(s) recorded; source: historyserver",
        "  Flink UI     : http://jm/#/job/completed/x/overview",
    ]


@pytest.mark.parametrize(
    ("retryable", "try_number", "max_tries", "expected"),
    [
        (True, 1, 2, (True, "yes: Airflow retries the task (this was try 1 of 3)")),
        (True, 3, 2, (False, "no: this was the last try (3 of 3)")),
        (True, 1, 0, (False, "no: the task has retries=0")),
        (False, 1, 2, (False, "no, this failure is not retried; retry_on={'io_error': True} retries it")),
    ],
)
def test_the_retry_sentence_is_true_for_the_try(
    retryable: bool, try_number: int, max_tries: int, expected: tuple[bool, str]
) -> None:
    """Airflow retries when max_tries != 0 and try_number <= max_tries: "retried" only then."""
    result = diagnose(
        "c" * 32,
        {"state": "FAILED"},
        exceptions_with(CHAIN + "Caused by: java.io.IOException: x"),
        source="t",
        retry_on={"io_error": retryable},
    )
    assert result.retry_plan(try_number, max_tries) == expected
