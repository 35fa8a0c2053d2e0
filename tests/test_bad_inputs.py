"""Bad input fails the task at once with a message that says what is wrong and how to fix it.

Runs a DAG of broken tasks the way Airflow runs it; each must fail on its first try (no retries
wasted, although the DAG sets retries=2), quickly, with its own message. HTTP-level misbehaviour
(proxies, TLS, broken JSON) is covered in ``tests/rest``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import RunDag

pytestmark = pytest.mark.integration

HUGE = Path(__file__).parent / "dags" / "sql" / "huge.sql"

EXPECTED = {
    "empty_sql": "the SQL script is empty (or holds only comments)",
    "only_comments": "the SQL script is empty (or holds only comments)",
    "unterminated_string": "unterminated string starting at line 1: close it with '",
    "config_wrong_type": "flink_config['a'] must be a string, number or boolean, got list",
    "unknown_connection": "connection 'no_such_conn' is not defined: create a 'flink_batch' connection",
    "huge_sql_file": r"sql/huge.sql is 9\d\.\d MiB; the limit is 16 MiB\. Keep data out of the script",
    "jinja_error": "TemplateSyntaxError",
}


@pytest.fixture
def huge_sql_file() -> Iterator[Path]:
    HUGE.parent.mkdir(exist_ok=True)
    with HUGE.open("w") as handle:  # 100 MiB of a single INSERT's VALUES
        chunk = "(1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),\n" * 16384
        for _ in range(100 * 1024 * 1024 // len(chunk)):
            handle.write(chunk)
    yield HUGE
    HUGE.unlink(missing_ok=True)


def test_bad_inputs_fail_fast_with_clear_messages(
    run_dag: RunDag, huge_sql_file: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    _, tis = run_dag("it_bad_inputs")
    elapsed = time.monotonic() - started

    log = capfd.readouterr().out
    for task_id, message in EXPECTED.items():
        ti = tis[task_id]
        assert (ti.state, ti.try_number) == ("failed", 1), task_id
        assert re.search(message if task_id == "huge_sql_file" else re.escape(message), log), task_id
    assert elapsed < 120  # nothing hangs; the 100 MiB file is never loaded into Jinja
    # no noise from the extra links of tasks that failed before submitting (jinja_error fails before execute)
    noisy = [line for line in log.splitlines() if "XCom not found" in line and "task 'jinja_error'" not in line]
    assert noisy == []
