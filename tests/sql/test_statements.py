"""Statement splitting: what the runner receives is exactly what the user meant."""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements


def test_splits_on_top_level_semicolons_and_keeps_order() -> None:
    script = "SET 'a' = '1';\nCREATE TABLE t (x INT);\nINSERT INTO t VALUES (1);"
    assert split_statements(script) == ["SET 'a' = '1'", "CREATE TABLE t (x INT)", "INSERT INTO t VALUES (1)"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("INSERT INTO t SELECT 'a;b' FROM s", ["INSERT INTO t SELECT 'a;b' FROM s"]),
        (
            "INSERT INTO t SELECT 'it''s; fine' FROM s; SELECT 1",
            ["INSERT INTO t SELECT 'it''s; fine' FROM s", "SELECT 1"],
        ),
        ('SELECT "odd;name" FROM s', ['SELECT "odd;name" FROM s']),
        ("SELECT `odd;name` FROM s", ["SELECT `odd;name` FROM s"]),
        ("SELECT 1 -- trailing; comment\nFROM s", ["SELECT 1 -- trailing; comment\nFROM s"]),
        ("SELECT /* a; b */ 1", ["SELECT /* a; b */ 1"]),
    ],
)
def test_semicolons_inside_strings_identifiers_and_comments_do_not_split(script: str, expected: list[str]) -> None:
    assert split_statements(script) == expected


def test_leading_comments_are_dropped_and_comment_only_pieces_vanish() -> None:
    script = "-- header; with semicolon\n/* block */ INSERT INTO t VALUES (1);\n-- just a comment;\n;;"
    assert split_statements(script) == ["INSERT INTO t VALUES (1)"]


@pytest.mark.parametrize(
    "script",
    [
        "EXECUTE STATEMENT SET BEGIN INSERT INTO a VALUES (1); INSERT INTO b VALUES (2); END;",
        "BEGIN STATEMENT SET;\nINSERT INTO a VALUES (1);\nINSERT INTO b VALUES (2);\nEND;",
    ],
)
def test_statement_set_blocks_are_flattened_into_their_inserts(script: str) -> None:
    assert split_statements(script) == ["INSERT INTO a VALUES (1)", "INSERT INTO b VALUES (2)"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("", "empty"),
        ("  -- only a comment\n/* and another */ ;", "empty"),
        ("SELECT 'oops FROM t;\nSELECT 2", "unterminated string starting at line 1"),
        ("SELECT 1;\n/* never closed", r"unterminated /\* comment starting at line 2"),
        ('SELECT "x FROM t', "unterminated quoted identifier"),
        ("SELECT 1;\nBEGIN STATEMENT SET;\nINSERT INTO a VALUES (1);", "statement set starting at line 2 has no END"),
    ],
)
def test_broken_scripts_fail_with_a_message_that_says_where(script: str, message: str) -> None:
    with pytest.raises(SqlScriptError, match=message):
        split_statements(script)
