"""Flink's rejection of a statement, told in the coordinates of the script the user edits.

The runner reports ``Statement 4 of 6 (<preview>) failed: <Flink's message>``, and Flink's positions
(``From line 3, column 12 to line 3, column 16``, ``at line 2, column 5``) count within that one
statement. Users edit a ``.sql`` file, so the message leads with the file's line and column
(``sql/daily.sql:16:12: ...``), keeps Flink's own message once (Flink repeats its "SQL validation
failed." prefix), and names the statement. The operator and ``flinkbatch explain`` share it.
"""

from __future__ import annotations

import re

from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_located

_RUNNER = re.compile(r"^Statement (\d+) of (\d+) \((.*?)\) failed: (.*)$", re.DOTALL)
_POSITION = re.compile(r"\b([Ff]rom line|to line|at line) (\d+), column (\d+)")
_REPEATED = re.compile(r"(?P<sentence>[^.]+\.\s+)(?P=sentence)+")


def without_repeats(message: str) -> str:
    """``SQL validation failed. SQL validation failed. From ...`` -> ``SQL validation failed. From ...``."""
    return _REPEATED.sub(lambda match: match.group("sentence"), message.strip())


def describe_rejection(message: str, script: str, source: str, *, statement_offset: int = 0) -> str:
    """``message`` (the runner's) with the position in ``script`` (named ``source``) first.

    :param statement_offset: statements the caller put before the script's own (``SET`` lines of the
        job config when planning), which the runner counted.
    """
    found = _RUNNER.match(message.strip())
    if not found:
        return without_repeats(message)
    index, total = int(found.group(1)) - statement_offset, int(found.group(2)) - statement_offset
    preview, flink = found.group(3), without_repeats(found.group(4))
    try:
        located = split_located(script)
    except SqlScriptError:
        located = []
    if not 1 <= index <= len(located):
        return f"statement {index} of {total} ({preview}): {flink}"
    statement = located[index - 1]

    def in_script(line: int, column: int) -> tuple[int, int]:
        return statement.line + line - 1, column + (statement.column - 1 if line == 1 else 0)

    def translate(match: re.Match[str]) -> str:
        line, column = in_script(int(match.group(2)), int(match.group(3)))
        return f"{match.group(1)} {line}, column {column}"

    position = _POSITION.search(flink)
    line, column = (
        in_script(int(position.group(2)), int(position.group(3))) if position else (statement.line, statement.column)
    )
    flink = _POSITION.sub(translate, flink)  # Flink's positions, too, in the script's coordinates
    return f"{source}:{line}:{column}: {flink}\n  in statement {index} of {total} (line {statement.line}): {preview}"
