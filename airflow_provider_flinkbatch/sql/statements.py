"""Split a Flink SQL script into statements, the one place where that is done.

The runner receives the statements already split, so the rules below are the whole story:
semicolons end statements except inside '...' strings (with '' escapes), "..." or `...`
identifiers, -- line comments and /* */ block comments. Leading comments are dropped from each
statement (the runner classifies statements by their first keyword), comment-only pieces vanish,
and ``EXECUTE STATEMENT SET BEGIN ... END;`` / ``BEGIN STATEMENT SET; ... END;`` blocks are
flattened into their INSERTs, which the runner puts into one statement set anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SET_BLOCK_START = re.compile(r"^(?:EXECUTE\s+)?STATEMENT\s+SET\s+BEGIN\b\s*", re.IGNORECASE)
_OLD_SET_BLOCK_START = re.compile(r"^BEGIN\s+STATEMENT\s+SET\s*$", re.IGNORECASE)
_END = re.compile(r"^END\s*$", re.IGNORECASE)


class SqlScriptError(ValueError):
    """The script cannot be split (empty, unterminated quote or comment); the message says where."""


def _line_of(script: str, offset: int) -> int:
    return script.count("\n", 0, offset) + 1


def _raw_pieces(script: str) -> list[tuple[str, int]]:
    """Pieces between top-level semicolons, each with its start offset."""
    pieces: list[tuple[str, int]] = []
    start = 0
    i = 0
    n = len(script)
    while i < n:
        ch = script[i]
        if ch in ("'", '"', "`"):
            close = ch
            j = i + 1
            while True:
                j = script.find(close, j)
                if j < 0:
                    kind = "string" if ch == "'" else "quoted identifier"
                    raise SqlScriptError(
                        f"unterminated {kind} starting at line {_line_of(script, i)}: close it with {close}"
                    )
                if j + 1 < n and script[j + 1] == close:  # doubled quote = escaped quote
                    j += 2
                    continue
                break
            i = j + 1
        elif script.startswith("--", i):
            newline = script.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif script.startswith("/*", i):
            end = script.find("*/", i + 2)
            if end < 0:
                raise SqlScriptError(
                    f"unterminated /* comment starting at line {_line_of(script, i)}: close it with */"
                )
            i = end + 2
        elif ch == ";":
            pieces.append((script[start:i], start))
            i += 1
            start = i
        else:
            i += 1
    pieces.append((script[start:], start))
    return pieces


def _leading_comments_end(text: str) -> int:
    """Offset of the first character after leading whitespace and comments."""
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if text.startswith("--", i):
            newline = text.find("\n", i)
            i = len(text) if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = len(text) if end < 0 else end + 2
        else:
            return i


@dataclass(frozen=True)
class LocatedStatement:
    """A statement and where it starts in the script (1-based line and column), for error messages."""

    text: str
    line: int
    column: int


def split_located(script: str) -> list[LocatedStatement]:
    """The statements of ``script`` in order, each with its start position in the script."""
    if not isinstance(script, str):
        raise SqlScriptError(f"SQL must be a string, got {type(script).__name__}")
    statements: list[LocatedStatement] = []
    in_block_since: int | None = None
    for raw, offset in _raw_pieces(script):
        start = _leading_comments_end(raw)
        statement = raw[start:].rstrip()
        if not statement:
            continue
        if in_block_since is not None and _END.match(statement):
            in_block_since = None
            continue
        offset += start
        if _OLD_SET_BLOCK_START.match(statement):
            in_block_since = offset
            continue
        block = _SET_BLOCK_START.match(statement)
        if block:
            in_block_since = offset
            statement = statement[block.end() :]
            offset += block.end()
        line_start = script.rfind("\n", 0, offset) + 1
        statements.append(LocatedStatement(statement, _line_of(script, offset), offset - line_start + 1))
    if in_block_since is not None:
        raise SqlScriptError(
            f"statement set starting at line {_line_of(script, in_block_since)} has no END; finish it with END;"
        )
    if not statements:
        raise SqlScriptError("the SQL script is empty (or holds only comments): give at least one INSERT statement")
    return statements


def split_statements(script: str) -> list[str]:
    """Return the statements of ``script`` in order, ready for the runner."""
    return [statement.text for statement in split_located(script)]
