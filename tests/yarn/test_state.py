"""ApplicationState: every documented RM REST ``app.state`` / ``finalStatus`` pair, read as a Flink job outcome.

Inputs are the states the Hadoop ResourceManager REST API documents for ``GET /ws/v1/cluster/apps/{id}``
(``state``: NEW, NEW_SAVING, SUBMITTED, ACCEPTED, RUNNING, FINISHED, FAILED, KILLED; ``finalStatus``:
UNDEFINED, SUCCEEDED, FAILED, KILLED).
"""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.yarn.state import ApplicationState, details_from_app

CASES = [
    # state, finalStatus, Flink state, final, JobManager reachable through the proxy
    ("NEW", "UNDEFINED", "INITIALIZING", False, False),
    ("NEW_SAVING", "UNDEFINED", "INITIALIZING", False, False),
    ("SUBMITTED", "UNDEFINED", "INITIALIZING", False, False),
    ("ACCEPTED", "UNDEFINED", "INITIALIZING", False, False),
    ("RUNNING", "UNDEFINED", "RUNNING", False, True),
    ("FINISHED", "SUCCEEDED", "FINISHED", True, False),
    ("FINISHED", "FAILED", "FAILED", True, False),  # the application ended, Flink reported a failed job
    ("FINISHED", "KILLED", "CANCELED", True, False),
    ("FAILED", "FAILED", "FAILED", True, False),  # the AM crashed or ran out of attempts
    ("KILLED", "KILLED", "CANCELED", True, False),  # yarn app -kill, or the provider's cancel
]


@pytest.mark.parametrize(("state", "final_status", "flink_state", "final", "running"), CASES)
def test_rm_states_map_to_flink_outcomes(
    state: str, final_status: str, flink_state: str, final: bool, running: bool
) -> None:
    observed = ApplicationState.of({"id": "application_1_0001", "state": state, "finalStatus": final_status})
    assert (observed.flink_state, observed.final, observed.running) == (flink_state, final, running)


def test_message_names_the_application_and_the_first_diagnostics_line() -> None:
    app = {
        "id": "application_1700000000000_0007",
        "state": "FAILED",
        "finalStatus": "FAILED",
        "diagnostics": "Application application_1700000000000_0007 failed 1 times due to AM Container exited\nmore",
    }
    assert ApplicationState.of(app).message == (
        "YARN application application_1700000000000_0007 FAILED/FAILED: Application application_1700000000000_0007 "
        "failed 1 times due to AM Container exited ..."
    )


def test_details_from_yarn_alone_carry_times_and_the_outcome() -> None:
    app = {
        "id": "application_1_0002",
        "name": "daily.load",
        "state": "KILLED",
        "finalStatus": "KILLED",
        "startedTime": 1000,
        "finishedTime": 4000,
    }
    details = details_from_app(app, "a" * 32)
    assert (details["state"], details["start-time"], details["end-time"], details["duration"]) == (
        "CANCELED",
        1000,
        4000,
        3000,
    )
