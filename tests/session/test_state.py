"""JobState against Flink's documented ``JobStatus`` values and answers captured from a real Flink 2.3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_flinkbatch.diagnosis import classify
from airflow_provider_flinkbatch.session.state import JobState

CAPTURED = json.loads((Path(__file__).parents[1] / "data" / "flink-2.3-job-responses.json").read_text())

# Flink's org.apache.flink.api.common.JobStatus: (state, terminal, succeeded, failed, cancelled)
JOB_STATUS = [
    ("INITIALIZING", False, False, False, False),
    ("CREATED", False, False, False, False),
    ("RUNNING", False, False, False, False),
    ("FAILING", False, False, False, False),
    ("RESTARTING", False, False, False, False),
    ("CANCELLING", False, False, False, False),
    ("RECONCILING", False, False, False, False),
    ("FINISHED", True, True, False, False),
    ("FAILED", True, False, True, False),
    ("CANCELED", True, False, False, True),
    ("SUSPENDED", True, False, True, False),  # this JobManager will not run it on: the wait ends, not a success
]


@pytest.mark.parametrize(("state", "terminal", "succeeded", "failed", "cancelled"), JOB_STATUS)
def test_every_flink_job_status(state: str, terminal: bool, succeeded: bool, failed: bool, cancelled: bool) -> None:
    observed = JobState.of(state, "6405b9cc582e3300772bc7b6792b2ce4")
    assert (observed.terminal, observed.succeeded, observed.failed, observed.cancelled) == (
        terminal,
        succeeded,
        failed,
        cancelled,
    )
    assert observed.running is not terminal
    assert observed.message.startswith("Flink job 6405b9cc582e3300772bc7b6792b2ce4 ")
    assert state in observed.message


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ("RUNNING", "Flink job j is RUNNING"),
        ("FINISHED", "Flink job j FINISHED"),
        ("FAILED", "Flink job j FAILED"),
        ("CANCELED", "Flink job j was CANCELED"),
    ],
)
def test_message_a_user_reads(state: str, message: str) -> None:
    assert JobState.of(state, "j").message == message


def test_missing_or_lowercase_state() -> None:
    assert JobState.of(None).state == "UNKNOWN" and JobState.of(None).running
    assert JobState.of("finished").succeeded  # the operator's CRs and some proxies write it in lower case


@pytest.mark.parametrize("key", ["overview_entry", "job_details"])
def test_captured_flink_answers(key: str) -> None:
    observed = JobState.from_json(CAPTURED[key])
    assert observed.succeeded and observed.job_id == CAPTURED[key]["jid"]


def test_diagnosis_classifies_through_the_same_states() -> None:
    assert classify("FINISHED", "", "").category == "finished"
    assert classify("CANCELED", "", "").category == "cancelled"
    assert classify("FAILED", "", "").category == "unknown"
