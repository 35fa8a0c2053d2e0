"""The worker's polls of a running job (``targets/worker_poll.py``), on the real local Flink behind a counting proxy.

While the job runs the worker asks only for its bare state (``/jobs/<id>/status``: fresh, a few bytes); the
details (``/jobs/<id>``, which the JobManager caches) once, after the end. A job the JobManager never had is
"not found", as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import make_request, slow_sql
from counting_proxy import CountingProxy

from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkNotFoundError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget
from airflow_provider_flinkbatch.targets.base import JobHandle
from airflow_provider_flinkbatch.targets.finish import wait_in_worker
from airflow_provider_flinkbatch.targets.grace import watch_before_defer

pytestmark = pytest.mark.integration


@pytest.fixture
def counted(flink_cluster: LocalClusterInfo) -> Iterator[tuple[SessionTarget, CountingProxy]]:
    proxy = CountingProxy(flink_cluster.rest_url).start()
    settings = FlinkConnectionSettings(rest_url=proxy.url, timeout=60)
    yield SessionTarget(FlinkRestClient(settings, RetryPolicy(budget=15)), "counted"), proxy
    proxy.stop()


def _requests(proxy: CountingProxy, path: str) -> int:
    return sum(1 for _, method, seen in proxy.seen if method == "GET" and seen == path)


def test_a_running_job_is_polled_by_its_bare_state_and_read_in_full_once_it_ended(
    counted: tuple[SessionTarget, CountingProxy],
) -> None:
    target, proxy = counted
    outcome = attach_or_submit(target, make_request(slow_sql(rows=40), "it.worker-poll"))  # about 2 s
    handle = outcome.handle
    before = len(proxy.seen)
    details = watch_before_defer(target, handle, grace=0.0, poll_interval=5.0)  # deferrable: one look
    assert details["jid"] == handle.job_id and details["state"] in ("CREATED", "INITIALIZING", "RUNNING"), details
    details = wait_in_worker(target, handle, details, poll_interval=5.0)  # non-deferrable: to the end
    assert details["state"] == "FINISHED"
    assert [vertex["status"] for vertex in details["vertices"]] == ["FINISHED"] * len(details["vertices"]) != []
    assert details["duration"] > 0 and details["end-time"] >= details["start-time"] > 0
    asked = proxy.seen[before:]
    status, full = f"/jobs/{handle.job_id}/status", f"/jobs/{handle.job_id}"
    assert _requests(proxy, status) >= 3, asked  # a 2 s job, polled every 0.1 s at first
    # the details once, after the bare state said FINISHED (never while it ran)
    assert [path for _, _, path in asked if path in (status, full)][-1] == full, asked
    assert _requests(proxy, full) == 1, asked


def test_a_job_the_jobmanager_never_had_is_not_found(counted: tuple[SessionTarget, CountingProxy]) -> None:
    target, proxy = counted
    handle = JobHandle(target="session", conn_id="counted", job_id="0" * 32)
    with pytest.raises(FlinkNotFoundError) as err:
        watch_before_defer(target, handle, grace=0.0, poll_interval=5.0)
    assert f"/jobs/{'0' * 32}" in str(err.value)
    # asked for the bare state first; Flink does not know the id there either, so the details lookup decides
    assert _requests(proxy, f"/jobs/{'0' * 32}/status") == 1
