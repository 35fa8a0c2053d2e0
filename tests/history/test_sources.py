"""The one lookup chain (JobManager -> HistoryServer -> archives) and its explicit error policies.

Real parts: a port nothing listens on (the connection is really refused) stands for a JobManager that is
down, and a job archive in Flink 2.3's file layout (``{"archive": [{"path", "json"}]}``) written from answers
captured from a real Flink 2.3 job.
"""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest

from airflow_provider_flinkbatch.history.sources import (
    ArchiveJobSource,
    AsyncJobLookup,
    AsyncRestJobSource,
    JobLookup,
    RestJobSource,
)
from airflow_provider_flinkbatch.rest.client import NO_RETRY, AsyncFlinkRestClient, FlinkRestClient
from airflow_provider_flinkbatch.rest.errors import FlinkUnreachableError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings

DETAILS = json.loads((Path(__file__).parents[1] / "data" / "flink-2.3-job-responses.json").read_text())["job_details"]
JOB_ID = DETAILS["jid"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def down() -> FlinkConnectionSettings:
    return FlinkConnectionSettings(rest_url=f"http://127.0.0.1:{_closed_port()}", timeout=2.0)


@pytest.fixture
def archive(tmp_path: Path) -> ArchiveJobSource:
    entries = [{"path": f"/jobs/{JOB_ID}", "json": json.dumps(DETAILS)}]
    (tmp_path / JOB_ID).write_text(json.dumps({"archive": entries}))  # Flink 1.x flat layout
    return ArchiveJobSource(str(tmp_path))


def test_skip_policy_passes_a_dead_jobmanager_and_says_so(
    down: FlinkConnectionSettings, archive: ArchiveJobSource
) -> None:
    lookup = JobLookup([RestJobSource("jobmanager", FlinkRestClient(down, NO_RETRY)), archive])
    source, answer, tried = lookup.first(f"/jobs/{JOB_ID}")
    assert source is archive and answer["state"] == "FINISHED"
    assert tried[0].startswith(f"jobmanager ({down.rest_url}): ") and "found" not in tried[0]
    assert tried[1] == f"{archive!r}: found"


def test_raise_policy_lets_an_outage_through(down: FlinkConnectionSettings, archive: ArchiveJobSource) -> None:
    lookup = JobLookup([RestJobSource("jobmanager", FlinkRestClient(down, NO_RETRY)), archive], on_error="raise")
    with pytest.raises(FlinkUnreachableError):  # a waiting task must not read an outage as "job unknown"
        lookup.first(f"/jobs/{JOB_ID}")


def test_unknown_path_is_none_with_every_source_tried(archive: ArchiveJobSource) -> None:
    source, answer, tried = JobLookup([archive], on_error="raise").first(f"/jobs/{'0' * 32}")
    assert (source, answer) == (None, None) and tried == [f"{archive!r}: not found"]


@pytest.mark.parametrize("on_error", ["skip", "raise"])
def test_async_twin_applies_the_same_policies(down: FlinkConnectionSettings, on_error: str) -> None:
    async def look() -> list[str]:
        client = AsyncFlinkRestClient(down, NO_RETRY)
        try:
            lookup = AsyncJobLookup([AsyncRestJobSource("jobmanager", client)], on_error=on_error)  # type: ignore[arg-type]
            return (await lookup.first(f"/jobs/{JOB_ID}"))[2]
        finally:
            await client.aclose()

    if on_error == "raise":
        with pytest.raises(FlinkUnreachableError):
            asyncio.run(look())
    else:
        (tried,) = asyncio.run(look())
        assert tried.startswith(f"jobmanager ({down.rest_url}): ") and "found" not in tried
