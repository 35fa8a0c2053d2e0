"""Values that reach the log come from users: keep them to one bounded line.

A job name with a line break could forge log lines (``...\\nINFO - Task succeeded``) in the task log, the
triggerer's log and Flink's own; an unbounded one floods them. Checked where the value enters (the
spec, the operator's rendered arguments), so every later log line can print it as is.
"""

from __future__ import annotations

#: Longest job name accepted: it names the job in Flink's UI, YARN and Kubernetes, and in every log line.
MAX_JOB_NAME = 200


def single_line_problem(value: str) -> str | None:
    """``"holds a line break ..."`` when ``value`` has a line break or another control character."""
    if any(ord(char) < 32 or 127 <= ord(char) < 160 or char in "\u2028\u2029" for char in value):
        return "holds a line break or control character; give one line of text"
    return None


def job_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a job (None: it can)."""
    if problem := single_line_problem(name):
        return f"job_name {name[:80]!r} {problem} (it names the job in Flink's UI and in the logs)"
    if len(name) > MAX_JOB_NAME:
        return f"job_name is {len(name)} characters long; the limit is {MAX_JOB_NAME}"
    return None
