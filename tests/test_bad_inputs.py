"""Bad input fails the task at once with a message that says what is wrong and how to fix it.

Runs a DAG of broken tasks the way Airflow runs it; each must fail on its first try (no retries
wasted, although the DAG sets retries=2), quickly, with its own message. HTTP-level misbehaviour
(proxies, TLS, broken JSON) is covered in ``tests/rest``.
"""

from __future__ import annotations

import re
import textwrap
import time
from pathlib import Path

import pytest
from conftest import RunDag

pytestmark = pytest.mark.integration

EXPECTED = {
    "empty_sql": "the SQL script is empty (or holds only comments)",
    "only_comments": "the SQL script is empty (or holds only comments)",
    "unterminated_string": "unterminated string starting at line 1: close it with '",
    "config_wrong_type": "flink_config['a'] must be a string, number or boolean, got list",
    "unknown_connection": "connection 'no_such_conn' is not defined: create a 'flink_batch' connection",
    "jinja_error": "TemplateSyntaxError",
}


def test_bad_inputs_fail_fast_with_clear_messages(run_dag: RunDag, capfd: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    _, tis = run_dag("it_bad_inputs")
    elapsed = time.monotonic() - started

    log = capfd.readouterr().out
    for task_id, message in EXPECTED.items():
        ti = tis[task_id]
        assert (ti.state, ti.try_number) == ("failed", 1), task_id
        assert message in log, task_id
    assert elapsed < 120  # nothing hangs
    # no noise from the extra links of tasks that failed before submitting (jinja_error fails before execute)
    noisy = [line for line in log.splitlines() if "XCom not found" in line and "task 'jinja_error'" not in line]
    assert noisy == []


def _dag_folder(root: Path, sql: str) -> Path:
    """A DAG folder with one DAG ``bad_sql_file`` whose task reads ``sql``."""
    root.mkdir(exist_ok=True)
    (root / "bad_sql_file_dag.py").write_text(
        textwrap.dedent(
            f"""
            from datetime import datetime

            from airflow.sdk import DAG

            from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator

            with DAG("bad_sql_file", schedule=None, start_date=datetime(2026, 1, 1), default_args={{"retries": 2}}):
                FlinkBatchSqlOperator(task_id="daily", sql={sql!r})
            """
        )
    )
    return root


def test_huge_sql_file_fails_fast_without_being_loaded(
    run_dag: RunDag, scratch_dags: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    folder = _dag_folder(scratch_dags, "sql/huge.sql")
    (folder / "sql").mkdir()
    with (folder / "sql" / "huge.sql").open("w") as handle:  # 100 MiB of a single INSERT's VALUES
        chunk = "(1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'),\n" * 16384
        for _ in range(100 * 1024 * 1024 // len(chunk)):
            handle.write(chunk)
    started = time.monotonic()
    _, tis = run_dag("bad_sql_file", folder)
    assert (tis["daily"].state, tis["daily"].try_number) == ("failed", 1)
    assert time.monotonic() - started < 120  # the 100 MiB file is never loaded into Jinja
    assert re.search(
        r"sql/huge.sql is 9\d\.\d MiB; the limit is 16 MiB\. Keep data out of the script", capfd.readouterr().out
    )


def test_missing_sql_file_fails_the_dag_import_in_one_line(tmp_path: Path) -> None:
    """Not a Jinja traceback at run time followed by XCom errors: the DAG does not import, and says why."""
    from airflow.dag_processing.dagbag import DagBag

    folder = _dag_folder(tmp_path / "dags", "sql/dialy_revenue.sql")
    bag = DagBag(dag_folder=str(folder), safe_mode=False)
    assert bag.import_errors == {
        str(folder / "bad_sql_file_dag.py"): (
            f"SqlFileNotFound: daily: SQL file 'sql/dialy_revenue.sql' not found (searched: {folder}); give the "
            "path relative to the DAG file's folder or add its folder to the DAG's template_searchpath"
        )
    }
