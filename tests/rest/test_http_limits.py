"""Slow, huge and redirecting answers from a real local HTTP server: both clients end them the same way."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from airflow_provider_flinkbatch.rest import calls
from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, FlinkRestClient, RetryPolicy
from airflow_provider_flinkbatch.rest.errors import FlinkBadResponseError, FlinkServerError, FlinkUnreachableError
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings


class Handler(BaseHTTPRequestHandler):
    """``/drip``: a JSON body one byte every 50 ms (10 minutes in all); ``/huge``: zeros without end;
    ``/declared``: a 3 GB Content-Length; ``/jars/x.jar/run``: a 307 to another server."""

    other = ""
    seen: list[tuple[str, str, bytes, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, body, self.headers.get("authorization", "")))
        try:
            if self.path == "/drip":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "12000")
                self.end_headers()
                for _ in range(12000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif self.path == "/huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # no length: the body ends when the connection does
                chunk = b"0" * 1024 * 1024
                for _ in range(4096):  # 4 GiB if nobody stops reading
                    self.wfile.write(chunk)
            elif self.path == "/declared":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(3 * 1024**3))
                self.end_headers()
                self.wfile.write(b"[")
            elif self.path.startswith("/jars/x.jar/run"):
                self.send_response(307)
                self.send_header("Location", f"{self.other}/stolen")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the tests want

    do_GET = do_POST = _answer


def _serve() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def servers() -> Iterator[tuple[str, str]]:
    """(the "Flink" URL, another origin's URL); requests seen by both are in ``Handler.seen``."""
    flink, flink_url = _serve()
    other, other_url = _serve()
    Handler.other, Handler.seen = other_url, []
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
    assert [(method, path) for method, path, _, _ in Handler.seen] == [
        ("POST", "/jars/x.jar/run")
    ]  # nothing at /stolen
