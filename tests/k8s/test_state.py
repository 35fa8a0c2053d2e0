"""ResourceState: the Flink Kubernetes Operator's documented ``.status`` shapes of a batch job, read as outcomes.

Each row is a status the operator writes (flink-kubernetes-operator ``CommonStatus`` / ``JobStatusObserver`` /
``FlinkResourceExceptionUtils``, as recorded in the team's batch status facts): the success path of a
FlinkDeployment, a failed job, deployment errors, suspension, the JobManager going away after the job,
and the FlinkSessionJob variants.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_flinkbatch.kubernetes.state import ResourceState, details_from_status

JOB_ID = "4f3c2b1a4f3c2b1a4f3c2b1a4f3c2b1a"
JOB_FAILED_ERROR = json.dumps(
    {
        "type": "org.apache.flink.util.SerializedThrowable",
        "message": "Recovery is suppressed by NoRestartBackoffTimeStrategy",
        "throwableList": [
            {"type": "org.apache.flink.util.SerializedThrowable", "message": "java.io.FileNotFoundException: /in"}
        ],
    }
)
IMAGE_PULL_ERROR = json.dumps(
    {
        "type": "org.apache.flink.kubernetes.operator.exception.DeploymentFailedException",
        "message": '[flink-main-container] Back-off pulling image "registry.invalid/flink:missing"',
        "additionalMetadata": {"reason": "ImagePullBackOff"},
        "throwableList": [],
    }
)
VALIDATION_ERROR = json.dumps(
    {"type": "org.apache.flink.kubernetes.operator.exception.ValidationException", "message": "Job jarURI missing"}
)


def status(lifecycle: str | None, jm: str | None, job: str | None, error: str | None = None) -> dict[str, Any]:
    job_status = {"state": job, "jobId": JOB_ID} if job else {}
    raw = {"lifecycleState": lifecycle, "jobManagerDeploymentStatus": jm, "jobStatus": job_status, "error": error}
    return {"metadata": {"name": "r"}, "status": {k: v for k, v in raw.items() if v is not None}}


CASES = [
    # id, resource, state, terminal, the failure is the deployment's, JobManager polled
    ("not reconciled yet", {"metadata": {"name": "r"}}, "INITIALIZING", False, False, False),
    ("created", status("CREATED", "MISSING", None), "INITIALIZING", False, False, False),
    ("submitted", status("DEPLOYED", "DEPLOYING", "RECONCILING"), "RECONCILING", False, False, False),
    ("jm not ready", status("DEPLOYED", "DEPLOYED_NOT_READY", "RECONCILING"), "RECONCILING", False, False, False),
    ("running", status("STABLE", "READY", "RUNNING"), "RUNNING", False, False, True),
    ("finished", status("STABLE", "READY", "FINISHED"), "FINISHED", True, False, True),
    ("jm gone after ttl", status("STABLE", "MISSING", "FINISHED"), "FINISHED", True, False, False),
    ("job failed", status("FAILED", "READY", "FAILED", JOB_FAILED_ERROR), "FAILED", True, False, True),
    ("image pull", status("DEPLOYED", "ERROR", "RECONCILING", IMAGE_PULL_ERROR), "FAILED", True, True, False),
    ("validation", status("FAILED", None, None, VALIDATION_ERROR), "FAILED", True, True, False),
    ("cancelled outside", status("SUSPENDED", "MISSING", "CANCELED"), "CANCELED", True, False, False),
    ("session job cancelling", status("UPGRADING", None, "CANCELLING"), "CANCELLING", False, False, True),
    ("session job cancelled", status("UPGRADING", None, "CANCELED"), "CANCELED", True, False, True),
    ("session job finished", status("STABLE", None, "FINISHED"), "FINISHED", True, False, True),
    (
        "session job rest down",
        status("STABLE", None, "RECONCILING", "Job Not Found"),
        "RECONCILING",
        False,
        False,
        True,
    ),
    pytest.param(
        "suspended deployment",
        status("SUSPENDED", "MISSING", "FINISHED"),
        "CANCELED",
        True,
        False,
        False,
        marks=pytest.mark.xfail(
            strict=True, reason="a suspended FlinkDeployment reports jobStatus FINISHED: read as success today"
        ),
    ),
]


@pytest.mark.parametrize(("case", "resource", "state", "terminal", "deployment_failed", "jm_polled"), CASES)
def test_status_maps_to_outcome(
    case: str, resource: dict[str, Any], state: str, terminal: bool, deployment_failed: bool, jm_polled: bool
) -> None:
    observed = ResourceState.of(resource)
    assert (observed.state, observed.terminal, observed.deployment_failed) == (state, terminal, deployment_failed)
    assert observed.jobmanager_running == jm_polled


def test_error_json_becomes_one_readable_line_with_its_causes() -> None:
    observed = ResourceState.of(status("FAILED", "READY", "FAILED", JOB_FAILED_ERROR))
    assert observed.error == (
        "org.apache.flink.util.SerializedThrowable: Recovery is suppressed by NoRestartBackoffTimeStrategy; "
        "caused by org.apache.flink.util.SerializedThrowable: java.io.FileNotFoundException: /in"
    )


def test_plain_text_error_stays_as_it_is() -> None:
    assert ResourceState.of(status("STABLE", None, "RECONCILING", "Job Not Found")).error == "Job Not Found"


def test_status_wins_over_a_jobmanager_that_has_not_caught_up() -> None:
    resource = status("STABLE", "READY", "FAILED", JOB_FAILED_ERROR)
    running = {"jid": JOB_ID, "state": "RUNNING", "vertices": [{"status": "RUNNING"}]}
    details = ResourceState.of(resource).job_details(resource, JOB_ID, running)
    assert details == details_from_status(resource, JOB_ID, "") and details["state"] == "FAILED"
    finished = {"jid": JOB_ID, "state": "FINISHED", "vertices": [{"status": "FINISHED"}]}
    assert ResourceState.of(resource).job_details(resource, JOB_ID, finished) is finished
