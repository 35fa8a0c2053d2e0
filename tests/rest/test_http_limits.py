"""Slow, huge and redirecting answers from a real local HTTP server: both clients end them the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fake_http import Hostile, serve_hostile

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkBadResponseError, FlinkServerError, FlinkUnreachableError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings


@pytest.fixture
def servers() -> Iterator[tuple[str, str]]:
    """(the "Flink" URL, another origin's URL); requests seen by both are in ``Hostile.seen``."""
    flink, flink_url = serve_hostile()
    other, other_url = serve_hostile()
    Hostile.other, Hostile.seen = other_url, []
    try:
        yield flink_url, other_url
    finally:
        for server in (flink, other):
            server.shutdown()
            server.server_close()


def _settings(url: str, timeout: float) -> FlinkConnectionSettings:
    return FlinkConnectionSettings(rest_url=url, timeout=timeout, login="svc", password="pw-3c4d")  # type: ignore[arg-type]


def _sync(url: str, timeout: float = 1.0) -> Callable[[calls.ApiCall[Any]], Any]:
    settings = _settings(url, timeout)
    client = FlinkRestClient(settings, RetryPolicy(budget=0.0))
    return client.call


def _async(url: str, timeout: float = 1.0) -> Callable[[calls.ApiCall[Any]], Any]:
    settings = _settings(url, timeout)

    def call(api_call: calls.ApiCall[Any]) -> Any:
        async def run() -> Any:
            client = AsyncFlinkRestClient(settings, RetryPolicy(budget=0.0))
            try:
                return await client.call(api_call)
            finally:
                await client.aclose()

        return asyncio.run(run())

    return call


CLIENTS = pytest.mark.parametrize("client", [_sync, _async], ids=["requests", "httpx"])


def _get(path: str) -> calls.ApiCall[Any]:
    return calls.ApiCall("GET", path, lambda body: body)


@CLIENTS
def test_a_dripping_server_is_cut_off_at_the_total_deadline(servers: tuple[str, str], client: Any) -> None:
    url, _ = servers
    with pytest.raises(FlinkUnreachableError) as raised:
        client(url)(_get("/drip"))  # 12 000 bytes at 20 bytes/s: 10 minutes without the deadline
    assert str(raised.value).startswith(
        f"GET {url}/drip did not finish within 1s (connect, headers and body together): the server answers too "
        "slowly; check the proxy or raise the connection's timeout"
    )
    assert client(url)(_get("/overview")) == {}  # an ordinary answer still passes


@CLIENTS
@pytest.mark.parametrize("path", ["/huge", "/declared"])
def test_a_huge_body_fails_at_the_cap(servers: tuple[str, str], client: Any, path: str) -> None:
    url, _ = servers
    with pytest.raises(FlinkBadResponseError) as raised:
        client(url, timeout=60.0)(_get(path))  # time enough to read 32 MiB on a busy machine
    assert str(raised.value) == (
        f"GET {url}{path} answered with more than 32 MiB; Flink's REST answers are far smaller: is the "
        "connection's host the Flink REST endpoint?"
    )


@CLIENTS
def test_a_redirect_never_carries_the_submission_or_credentials_elsewhere(
    servers: tuple[str, str], client: Any
) -> None:
    url, other = servers
    submission = calls.run_jar("x.jar", {"programArgsList": ["--sql", "c2VjcmV0"]})
    with pytest.raises(FlinkServerError) as raised:
        client(url)(submission)
    assert str(raised.value) == (
        f"POST {url}/jars/x.jar/run answered HTTP 307, a redirect to {other}/stolen: the provider follows no redirects "
        "(one could carry the submission or the credentials to another server); set the connection's host to "
        "the URL Flink answers on"
    )
    assert [(method, path) for method, path, _, _ in Hostile.seen] == [
        ("POST", "/jars/x.jar/run")
    ]  # nothing at /stolen
