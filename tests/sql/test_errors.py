"""Flink's statement-relative positions mapped into the user's script (messages as real Flink 2.3 sends them)."""

from __future__ import annotations

from airflow_provider_flinkbatch.sql.errors import describe_rejection, without_repeats
from airflow_provider_flinkbatch.sql.statements import split_located

# The runner's message for an unknown column, as the JobManager returned it (tests/operators covers it live).
REJECTED = (
    "Statement 4 of 4 (INSERT INTO revenue SELECT country, SUM(amout) FROM orders GROUP BY country) failed: "
    "SQL validation failed. SQL validation failed. From line 3, column 12 to line 3, column 16: "
    "Column 'amout' not found in any table"
)
SCRIPT = """-- Daily revenue per country.
SET 'parallelism.default' = '2';
CREATE TEMPORARY TABLE orders (country STRING, amount DECIMAL(10, 2)) WITH ('connector' = 'datagen');
CREATE TEMPORARY TABLE revenue (country STRING, revenue DECIMAL(10, 2)) WITH ('connector' = 'blackhole');
/* the INSERT */ INSERT INTO revenue
SELECT country,
       SUM(amout)
FROM orders
GROUP BY country;
"""


def test_statements_know_where_they_start() -> None:
    located = split_located(SCRIPT)
    assert [(s.line, s.column) for s in located] == [(2, 1), (3, 1), (4, 1), (5, 18)]
    assert located[3].text.startswith("INSERT INTO revenue")


def test_position_is_the_files_and_flinks_message_appears_once() -> None:
    assert describe_rejection(REJECTED, SCRIPT, "sql/daily.sql") == (
        "sql/daily.sql:7:12: SQL validation failed. From line 7, column 12 to line 7, column 16: "
        "Column 'amout' not found in any table\n"
        "  in statement 4 of 4 (line 5): INSERT INTO revenue SELECT country, SUM(amout) FROM orders GROUP BY country"
    )


def test_a_position_on_the_statements_first_line_is_shifted_by_its_column() -> None:
    message = REJECTED.replace("line 3, column 12", "line 1, column 13").replace(
        "line 3, column 16", "line 1, column 19"
    )
    assert describe_rejection(message, SCRIPT, "job.sql").startswith(
        "job.sql:5:30: SQL validation failed. From line 5, column 30 to line 5, column 36"
    )


def test_messages_without_a_statement_are_only_deduplicated() -> None:
    assert without_repeats("SQL parse failed. SQL parse failed. Encountered x") == "SQL parse failed. Encountered x"
    assert describe_rejection("no INSERT statement", SCRIPT, "job.sql") == "no INSERT statement"


def test_a_parse_error_points_into_the_file() -> None:
    script = (
        "CREATE TEMPORARY TABLE s (x INT) WITH ('connector' = 'datagen');\n"
        "CREATE TEMPORARY TABLE t (x INT) WITH ('connector' = 'blackhole');\n\nINSERT INTO t\n  SELECT x\n  FORM s;\n"
    )
    # the runner's message for this script on Flink 2.3 (`flinkbatch explain` of the same file prints the result)
    message = 'Statement 3 of 3 (INSERT INTO t SELECT x FORM s) failed: SQL parse failed. Encountered "s" at line 3, column 8.'
    assert describe_rejection(message, script, "job.sql") == (
        'job.sql:6:8: SQL parse failed. Encountered "s" at line 6, column 8.\n'
        "  in statement 3 of 3 (line 4): INSERT INTO t SELECT x FORM s"
    )
