"""Two workers submitted the same job to YARN (a race): the later one keeps the earlier application, on the REAL RM.

YARN, unlike Flink's JobManager, accepts a second application for a job id that already runs. A worker that finds
an older live application carrying its job's tag after its own submission follows the older one and kills its own,
so one application runs and both workers watch it. The racing worker's application is a real, tagged one waiting
in ACCEPTED (an unmanaged ApplicationMaster that never comes); this worker's is a real ``flink run -t
yarn-application`` submission.
"""

from __future__ import annotations

import logging

import pytest
from conftest import make_request, slow_sql
from real_yarn import app, apps, kill, rm_url, submit_unmanaged, wait_until_final

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.targets.registry import create_target
from airflow_provider_flinkbatch.yarn import tags
from airflow_provider_flinkbatch.yarn.target import YarnTarget

pytestmark = pytest.mark.integration


def test_the_later_submission_follows_the_earlier_application_and_kills_its_own(
    local_yarn: LocalYarnCluster, yarn_cluster_conn: str, caplog: pytest.LogCaptureFixture
) -> None:
    rm, user = rm_url(local_yarn), local_yarn.info().user  # type: ignore[union-attr]
    request = make_request(slow_sql(600, 20), "yarn.duplicate-submission")
    identity = request.identity
    racing = submit_unmanaged(
        rm, user, "racing-worker", tags.identity_tags(identity.key, request.job_id, identity.fingerprint)
    )
    target = create_target("yarn", yarn_cluster_conn, {}, RetryPolicy(budget=30.0))
    assert isinstance(target, YarnTarget)
    try:
        with caplog.at_level(logging.WARNING):
            handle = target.submit(request)
        assert handle.ref == racing, "the worker must follow the application that was there first"
        # the RM's own record: this worker's submission, the one the real CLI made
        [own] = [
            str(a["id"]) for a in apps(local_yarn, applicationTags=tags.job_tag(request.job_id)) if a["id"] != racing
        ]
        log = "\n".join(record.getMessage() for record in caplog.records)
        assert f"Job {request.job_id} already runs as {racing}: killing the duplicate {own}" in log, log
        assert wait_until_final(local_yarn, own, timeout=120)["state"] == "KILLED"  # the RM's own record
        assert app(local_yarn, racing)["state"] == "ACCEPTED"  # the earlier one is left running
    finally:
        kill(rm, user, racing)
