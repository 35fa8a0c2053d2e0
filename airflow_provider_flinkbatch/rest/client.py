"""Sync (requests) and async (httpx) executors of :mod:`calls`, with one error mapping and retry policy.

Transient failures (no answer, 502/503/504/429, a proxy's HTML page) of idempotent calls are retried
with exponential backoff and jitter until a time budget is spent; then the error says what was
unreachable and for how long. Everything else fails at once with a message naming the URL.
:class:`RetryPolicy` is the one retry policy of the package: it builds ``tenacity`` retryers for
sync and async code (the Flink REST clients, the YARN RM clients, the Kubernetes trigger).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx  # already loaded by airflow.sdk: no cost to DAG parsing
import tenacity

from airflow_provider_flinkbatch.rest import calls, limits
from airflow_provider_flinkbatch.rest.errors import (
    FlinkAuthError,
    FlinkBadResponseError,
    FlinkNotFoundError,
    FlinkRestError,
    FlinkServerError,
    FlinkTlsError,
    FlinkUnreachableError,
)
from airflow_provider_flinkbatch.rest.settings import FlinkConnectionSettings

if TYPE_CHECKING:
    import requests

T = TypeVar("T")
S = TypeVar("S")
_TRANSIENT_STATUS = {429, 502, 503, 504}
_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for transient errors: ``initial * 2**n`` capped at ``max_delay``, +-``jitter``, within ``budget``."""

    budget: float = 180.0
    initial_delay: float = 0.5
    max_delay: float = 10.0
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        base = min(self.max_delay, self.initial_delay * (2**attempt))
        return max(0.0, base * (1 + random.uniform(-self.jitter, self.jitter)))  # noqa: S311 - not crypto

    def _tenacity_args(self, transient: Callable[[BaseException], bool], min_wait: float) -> dict[str, Any]:
        def wait(state: tenacity.RetryCallState) -> float:
            return max(min_wait, self.delay(state.attempt_number - 1))

        def stop(state: tenacity.RetryCallState) -> bool:  # the next wait would overrun the budget
            return (state.seconds_since_start or 0.0) + (state.upcoming_sleep or 0.0) > self.budget

        def give_up(state: tenacity.RetryCallState) -> Any:
            err = state.outcome.exception() if state.outcome is not None else None
            assert err is not None
            waited = state.seconds_since_start or 0.0
            if isinstance(err, FlinkRestError) and waited >= 1 and state.attempt_number > 1:  # retried, in vain
                raise type(err)(
                    f"{err} (still failing after {waited:.0f}s of retries)", url=err.url, status=err.status
                ) from err
            raise err

        return {
            "wait": wait,
            "stop": stop,
            "retry": tenacity.retry_if_exception(transient),
            "retry_error_callback": give_up,
        }

    def retrying(self, transient: Callable[[BaseException], bool], *, min_wait: float = 0.0) -> tenacity.Retrying:
        """``for attempt in policy.retrying(transient): with attempt: ...`` retries what ``transient`` accepts."""
        return tenacity.Retrying(**self._tenacity_args(transient, min_wait))

    def async_retrying(
        self, transient: Callable[[BaseException], bool], *, min_wait: float = 0.0
    ) -> tenacity.AsyncRetrying:
        """The event loop's twin of :meth:`retrying` (sleeps with ``asyncio.sleep``)."""
        return tenacity.AsyncRetrying(**self._tenacity_args(transient, min_wait))

    def for_call(self, call: calls.ApiCall[Any]) -> Callable[[BaseException], bool]:
        """Which errors of ``call`` are retried: transient ones, and only for idempotent calls."""
        return lambda err: isinstance(err, FlinkRestError) and err.transient and call.idempotent

    def run(self, call: calls.ApiCall[Any], once: Callable[[], T]) -> T:
        """``once()`` (one try of ``call``) until it returns, retrying what :meth:`for_call` accepts.

        Every blocking client of the package (Flink REST, YARN RM) calls through here.
        """
        for attempt in self.retrying(self.for_call(call)):
            with attempt:
                return once()
        raise AssertionError("unreachable: tenacity returns or raises")

    async def arun(self, call: calls.ApiCall[Any], once: Callable[[], Awaitable[T]]) -> T:
        """The event loop's twin of :meth:`run`."""
        async for attempt in self.async_retrying(self.for_call(call)):
            with attempt:
                return await once()
        raise AssertionError("unreachable: tenacity returns or raises")


NO_RETRY = RetryPolicy(budget=0.0)


class RetryingClient(Generic[S]):
    """A blocking client of one service (Flink REST, YARN RM): every :meth:`call` goes through its policy."""

    def __init__(self, settings: S, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()

    def call(self, call: calls.ApiCall[T]) -> T:
        return self.retry.run(call, lambda: self._attempt(call))

    def _attempt(self, call: calls.ApiCall[T]) -> T:
        """One try of ``call``: the parsed answer, or the :class:`FlinkRestError` that says what failed."""
        raise NotImplementedError


class AsyncRetryingClient(Generic[S]):
    """The event loop's twin of :class:`RetryingClient` (for triggers)."""

    def __init__(self, settings: S, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()

    async def call(self, call: calls.ApiCall[T]) -> T:
        return await self.retry.arun(call, lambda: self._attempt(call))

    async def _attempt(self, call: calls.ApiCall[T]) -> T:
        raise NotImplementedError


def interpret_response(call: calls.ApiCall[T], url: str, status: int, content_type: str, text: str) -> T:
    """Turn one HTTP answer into the parsed value or the right :class:`FlinkRestError`."""
    body: Any = None
    json_error: str | None = None
    if text.strip():
        try:
            body = json.loads(text)
        except ValueError as err:
            json_error = str(err)
    flink_errors = body.get("errors") if isinstance(body, dict) else None
    if status >= 400:
        detail = _describe_body(flink_errors, content_type, text, json_error)
        where = f"{call.method} {url}"
        if status in (401, 403):
            raise FlinkAuthError(
                f"{where} was refused with HTTP {status}: check the login/password or bearer token of the "
                f"Flink connection ({detail})",
                url=url,
                status=status,
            )
        if status == 404:
            raise FlinkNotFoundError(f"{where}: not found (HTTP 404): {detail}", url=url, status=status)
        if status in _TRANSIENT_STATUS or (status >= 500 and flink_errors is None):
            raise FlinkUnreachableError(f"{where} answered HTTP {status}: {detail}", url=url, status=status)
        raise FlinkServerError(
            f"{where} failed with HTTP {status}: {detail}",
            url=url,
            status=status,
            errors=[str(e) for e in flink_errors or []],
        )
    if not call.expect_json:
        return call.parse(body)
    not_json = (
        f"{call.method} {url} answered HTTP {status} with {_describe_body(None, content_type, text, json_error)} "
        "instead of Flink's JSON: is the URL the Flink REST endpoint (not a proxy login page)?"
    )
    return parse_json(call, url, status, body, text, not_json=not_json)


def parse_json(call: calls.ApiCall[T], url: str, status: int, body: Any, text: str, *, not_json: str) -> T:
    """``call``'s value from a JSON answer (Flink's or the RM's); missing fields name the call and the body.

    ``body`` is None when the answer was not JSON: then ``not_json`` is the message (what the URL should be).
    """
    if body is None:
        raise FlinkBadResponseError(not_json, url=url, status=status)
    try:
        return call.parse(body)
    except (KeyError, TypeError, ValueError) as err:
        raise FlinkBadResponseError(
            f"{call.method} {url} answered JSON without the expected fields ({err}): {text[:300]!r}",
            url=url,
            status=status,
        ) from err


def _describe_body(flink_errors: Any, content_type: str, text: str, json_error: str | None) -> str:
    if flink_errors:
        return " | ".join(str(e) for e in flink_errors)[:4000]
    if "html" in content_type.lower() or text.lstrip().lower().startswith(("<!doctype", "<html")):
        match = _TITLE.search(text)
        return f"an HTML page ({match.group(1).strip() if match else 'no title'})"
    if json_error is not None:
        return f"a body that is not valid JSON ({json_error}): {text[:200]!r}"
    return repr(text[:300]) if text else "an empty body"


def _transport_error(err: Exception, url: str, timeout: float) -> FlinkRestError:
    text = str(err)
    if "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in type(err).__name__ or "SSLError" in text:
        return FlinkTlsError(
            f"TLS handshake with {url} failed: {text}. Set ca_path in the connection to the CA that signed "
            "Flink's certificate (or verify_ssl false for testing only)",
            url=url,
        )
    if "timed out" in text.lower() or "Timeout" in type(err).__name__:
        return FlinkUnreachableError(f"no answer from {url} within {timeout:g}s: {text}", url=url)
    if "without response" in text or "Connection aborted" in text or "RemoteProtocolError" in type(err).__name__:
        return FlinkUnreachableError(f"the connection to {url} closed before an answer came: {text}", url=url)
    return FlinkUnreachableError(f"cannot connect to {url}: {text}", url=url)


class FlinkRestClient(RetryingClient[FlinkConnectionSettings]):
    """Blocking client for one cluster; reuses one ``requests.Session`` (connection pooling)."""

    def __init__(self, settings: FlinkConnectionSettings, retry: RetryPolicy | None = None) -> None:
        # requests is not loaded by airflow.sdk: DAG files that import the operator must not pay for it.
        import requests

        super().__init__(settings, retry)
        self._session: requests.Session = requests.Session()
        self._session.headers.update({"Accept": "application/json", **settings.auth_headers()})
        self._session.auth = settings.basic_auth()
        self._session.verify = settings.verify
        self._session.cert = settings.client_certificate()

    def url(self, path: str) -> str:
        return self.settings.rest_url + path

    def _attempt(self, call: calls.ApiCall[T]) -> T:
        # requests is not loaded by airflow.sdk: DAG files that import the operator must not pay for it.
        import requests
        import urllib3

        url = self.url(call.path)
        started = time.monotonic()
        try:
            response = self._session.request(
                call.method,
                url,
                params=call.params or None,
                json=call.json,
                timeout=self.settings.timeout,
                verify=self.settings.verify,  # per request: REQUESTS_CA_BUNDLE would override the session's
                allow_redirects=False,  # see limits.py
                stream=True,  # the body is read by limits.read_sync: total deadline, size cap
            )
            text = limits.read_sync(response, call.method, url, self.settings.timeout, started)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        return interpret_response(call, url, response.status_code, response.headers.get("content-type", ""), text)

    def upload_jar(self, jar_path: Path, upload_name: str) -> str:
        """``POST /jars/upload`` (multipart); returns the jar id Flink assigned."""
        # requests is not loaded by airflow.sdk: DAG files that import the operator must not pay for it.
        import requests

        url = self.url(calls.upload_path())
        call: calls.ApiCall[dict[str, Any]] = calls.ApiCall("POST", calls.upload_path(), calls._require("filename"))
        try:
            with jar_path.open("rb") as handle:
                response = self._session.post(
                    url,
                    files={"jarfile": (upload_name, handle, "application/x-java-archive")},
                    timeout=max(self.settings.timeout, 120.0),
                    verify=self.settings.verify,
                    allow_redirects=False,  # never re-send the jar (or the credentials) elsewhere
                )
                limits.check_status("POST", url, response.status_code, response.headers)
        except requests.RequestException as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        body = interpret_response(
            call, url, response.status_code, response.headers.get("content-type", ""), response.text
        )
        return str(body["filename"]).rsplit("/", 1)[-1]

    def close(self) -> None:
        self._session.close()


#: Requests the borrowers of one shared pool (:meth:`AsyncFlinkRestClient.sharing`) have in flight at once.
#: The rest wait for a slot before their deadline starts: httpcore rescans every queued request against every
#: connection on each change, so thousands of triggers asking at once would cost O(n^2) CPU and time out.
SHARED_POOL_REQUESTS = 4


class AsyncFlinkRestClient(AsyncRetryingClient[FlinkConnectionSettings]):
    """Non-blocking twin of :class:`FlinkRestClient` for triggers; same calls, errors and retries."""

    def __init__(self, settings: FlinkConnectionSettings, retry: RetryPolicy | None = None) -> None:
        super().__init__(settings, retry)
        self._http: httpx.AsyncClient | None = None  # made on first call: a waiting trigger may never need it
        self._owner: AsyncFlinkRestClient | None = None
        self._slots: asyncio.Semaphore | None = None  # the owner's: bounds its borrowers' requests in flight

    def sharing(self, retry: RetryPolicy) -> AsyncFlinkRestClient:
        """A client with its own retry policy on this client's connection pool (which this one owns).

        Thousands of triggers of one cluster then reuse a bounded set of connections instead of opening one each.
        """
        other = AsyncFlinkRestClient(self.settings, retry)
        other._owner = self
        if self._slots is None:
            self._slots = asyncio.Semaphore(SHARED_POOL_REQUESTS)
        other._slots = self._slots
        return other

    def _client(self) -> httpx.AsyncClient:
        if self._owner is not None:
            return self._owner._client()
        if self._http is None:
            basic = self.settings.basic_auth()
            self._http = httpx.AsyncClient(
                base_url=self.settings.rest_url,
                headers={"Accept": "application/json", **self.settings.auth_headers()},
                auth=httpx.BasicAuth(*basic) if basic else None,
                verify=self.settings.ssl_context(),  # shared: building one costs ~50 ms of CPU (rest/tls.py)
                timeout=self.settings.timeout,
                follow_redirects=False,  # see limits.py
                # the borrowers' slots plus the owner's own request: nothing queues inside httpcore
                limits=httpx.Limits(max_connections=SHARED_POOL_REQUESTS + 1, max_keepalive_connections=None),
            )
        return self._http

    async def _attempt(self, call: calls.ApiCall[T]) -> T:
        if self._owner is None or self._slots is None:
            return await self._attempt_now(call)
        async with self._slots:  # a borrower: wait for a slot of the shared pool first
            return await self._attempt_now(call)

    async def _attempt_now(self, call: calls.ApiCall[T]) -> T:
        url = self.settings.rest_url + call.path
        try:
            async with asyncio.timeout(self.settings.timeout):  # connect + headers + body: see limits.py
                request = self._client().stream(call.method, call.path, params=call.params or None, json=call.json)
                async with request as response:
                    text = await limits.read_async(response, call.method, url)
        except TimeoutError as err:
            raise limits.too_slow(call.method, url, self.settings.timeout) from err
        except httpx.HTTPError as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        return interpret_response(call, url, response.status_code, response.headers.get("content-type", ""), text)

    async def aclose(self) -> None:
        """Close the pool if this client owns it; a later call opens a new one."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
