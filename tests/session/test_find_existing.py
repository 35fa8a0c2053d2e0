"""Looking for a task instance's earlier jobs before a submission, on the real local Flink and its HistoryServer.

The JobManager and the HistoryServer are each behind a counting proxy, so a test sees when each was asked and
can slow or refuse one of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from conftest import make_request
from counting_proxy import CountingProxy

from airflow_provider_flinkbatch.history.sources import RestJobSource
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.rest.client import FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings
from airflow_provider_flinkbatch.session.target import SessionTarget

pytestmark = pytest.mark.integration
QUICK_SQL = """
CREATE TEMPORARY TABLE sink (x INT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT * FROM (VALUES (1), (2)) AS t(x);
"""
#: How long the slowed JobManager proxy holds its overview answer.
HELD = 2.0


@pytest.fixture
def proxied(flink_cluster: LocalClusterInfo) -> Iterator[tuple[SessionTarget, CountingProxy, CountingProxy]]:
    jobmanager, history = (
        CountingProxy(flink_cluster.rest_url).start(),
        CountingProxy(flink_cluster.history_url).start(),
    )
    client = FlinkRestClient(FlinkConnectionSettings(rest_url=jobmanager.url, timeout=30), RetryPolicy(budget=10))
    history_client = FlinkRestClient(FlinkConnectionSettings(rest_url=history.url, timeout=30), RetryPolicy(budget=0))
    target = SessionTarget(client, "find-existing", history=RestJobSource("historyserver", history_client))
    yield target, jobmanager, history
    jobmanager.stop()
    history.stop()


def _overview_at(proxy: CountingProxy) -> float:
    [at] = [at for at, method, path in proxy.seen if method == "GET" and path == "/jobs/overview"]
    return at


def test_the_historyserver_is_asked_while_the_jobmanager_still_answers(
    proxied: tuple[SessionTarget, CountingProxy, CountingProxy],
) -> None:
    target, jobmanager, history = proxied
    request = make_request(QUICK_SQL, "it.find-existing.both")
    job = attach_or_submit(target, request).handle
    jobmanager.seen.clear()
    history.seen.clear()
    jobmanager.lose = lambda method, path: f"delay:{HELD}" if path == "/jobs/overview" else None
    found = target.find_existing(request.identity)
    assert [existing.handle.job_id for existing in found] == [job.job_id]
    # both listings at once: the HistoryServer's came long before the JobManager's answer (held HELD seconds)
    assert _overview_at(history) < _overview_at(jobmanager) + HELD / 2


def test_a_failing_historyserver_does_not_stop_the_search_on_the_jobmanager(
    proxied: tuple[SessionTarget, CountingProxy, CountingProxy], caplog: pytest.LogCaptureFixture
) -> None:
    target, _, history = proxied
    request = make_request(QUICK_SQL, "it.find-existing.history-down")
    job = attach_or_submit(target, request).handle
    history.refuse[("GET", "/jobs/overview")] = 500
    with caplog.at_level(logging.WARNING, logger="airflow_provider_flinkbatch.session.target"):
        found = target.find_existing(request.identity)
    assert [existing.handle.job_id for existing in found] == [job.job_id]
    assert "HistoryServer not reachable while looking for earlier attempts" in caplog.text
