"""Deterministic job identity: the same task try with the same SQL always gets the same Flink job id.

Flink refuses a second submission with a job id it already knows, so a deterministic id turns an
accidental double submission (a retried HTTP call, a re-run of the same try) into a clear error
instead of a second job. The id covers (dag_id, task_id, run_id, map_index, try_number) and a
fingerprint of the effective SQL and Flink config.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def fingerprint(statements: list[str], flink_config: dict[str, str]) -> str:
    payload = json.dumps({"statements": statements, "config": flink_config}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def job_id_for(*, dag_id: str, task_id: str, run_id: str, map_index: int, try_number: int, fingerprint: str) -> str:
    """32 hex characters, the form Flink requires for a job id."""
    key = json.dumps([dag_id, task_id, run_id, map_index, try_number, fingerprint])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def normalize_flink_config(config: dict[str, Any] | None) -> dict[str, str]:
    """Flink's REST API takes string values; convert scalars, refuse structures with a clear message."""
    result: dict[str, str] = {}
    for key, value in (config or {}).items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"flink_config keys must be non-empty strings, got {key!r}")
        if isinstance(value, bool):
            result[key] = "true" if value else "false"
        elif isinstance(value, (int, float, str)):
            result[key] = str(value)
        else:
            raise ValueError(
                f"flink_config[{key!r}] must be a string, number or boolean, got {type(value).__name__}: "
                "write lists as Flink does, e.g. 'a;b' or 'k1:v1,k2:v2'"
            )
    return result
