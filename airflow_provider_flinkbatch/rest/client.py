"""Sync (requests) and async (httpx) executors of :mod:`calls`, with one error mapping and retry policy.

Transient failures (no answer, 502/503/504/429, a proxy's HTML page) of idempotent calls are retried
with exponential backoff and jitter until a time budget is spent; then the error says what was
unreachable and for how long. Everything else fails at once with a message naming the URL.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_flinkbatch.rest import calls
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
    import httpx
    import requests

T = TypeVar("T")
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


NO_RETRY = RetryPolicy(budget=0.0)


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
    if json_error is not None or body is None:
        raise FlinkBadResponseError(
            f"{call.method} {url} answered HTTP {status} with {_describe_body(None, content_type, text, json_error)} "
            "instead of Flink's JSON: is the URL the Flink REST endpoint (not a proxy login page)?",
            url=url,
            status=status,
        )
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
    return FlinkUnreachableError(f"cannot connect to {url}: {text}", url=url)


class _Backoff:
    """Retry bookkeeping of one call, shared by the sync and the async client."""

    def __init__(self, policy: RetryPolicy, call: calls.ApiCall[Any]) -> None:
        self.policy = policy
        self.call = call
        self.started = time.monotonic()
        self.attempt = 0

    def delay_or_raise(self, err: FlinkRestError) -> float:
        """Seconds to wait before the next try, or re-raise ``err`` when retrying cannot or may not help."""
        if not (err.transient and self.call.idempotent):
            raise err
        delay = self.policy.delay(self.attempt)
        waited = time.monotonic() - self.started
        if waited + delay > self.policy.budget:
            if waited < 1:
                raise err
            raise type(err)(
                f"{err} (still failing after {waited:.0f}s of retries)", url=err.url, status=err.status
            ) from err
        self.attempt += 1
        return delay


class FlinkRestClient:
    """Blocking client for one cluster; reuses one ``requests.Session`` (connection pooling)."""

    def __init__(self, settings: FlinkConnectionSettings, retry: RetryPolicy | None = None) -> None:
        import requests

        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._session: requests.Session = requests.Session()
        self._session.headers.update({"Accept": "application/json", **settings.auth_headers()})
        self._session.auth = settings.basic_auth()
        self._session.verify = settings.verify
        self._session.cert = settings.client_certificate()

    def url(self, path: str) -> str:
        return self.settings.rest_url + path

    def call(self, call: calls.ApiCall[T]) -> T:
        backoff = _Backoff(self.retry, call)
        while True:
            try:
                return self._once(call)
            except FlinkRestError as err:
                time.sleep(backoff.delay_or_raise(err))

    def _once(self, call: calls.ApiCall[T]) -> T:
        import requests

        url = self.url(call.path)
        try:
            response = self._session.request(
                call.method,
                url,
                params=call.params or None,
                json=call.json,
                timeout=self.settings.timeout,
                verify=self.settings.verify,  # per request: REQUESTS_CA_BUNDLE would override the session's
            )
        except requests.RequestException as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        return interpret_response(
            call, url, response.status_code, response.headers.get("content-type", ""), response.text
        )

    def upload_jar(self, jar_path: Path, upload_name: str) -> str:
        """``POST /jars/upload`` (multipart); returns the jar id Flink assigned."""
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
                )
        except requests.RequestException as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        body = interpret_response(
            call, url, response.status_code, response.headers.get("content-type", ""), response.text
        )
        return str(body["filename"]).rsplit("/", 1)[-1]

    def close(self) -> None:
        self._session.close()


class AsyncFlinkRestClient:
    """Non-blocking twin of :class:`FlinkRestClient` for triggers; same calls, errors and retries."""

    def __init__(self, settings: FlinkConnectionSettings, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._http: httpx.AsyncClient | None = None  # made on first call: a waiting trigger may never need it
        self._owner: AsyncFlinkRestClient | None = None

    def sharing(self, retry: RetryPolicy) -> AsyncFlinkRestClient:
        """A client with its own retry policy on this client's connection pool (which this one owns).

        Thousands of triggers of one cluster then reuse a bounded set of connections instead of opening one each.
        """
        other = AsyncFlinkRestClient(self.settings, retry)
        other._owner = self
        return other

    def _client(self) -> httpx.AsyncClient:
        import httpx

        if self._owner is not None:
            return self._owner._client()
        if self._http is None:
            basic = self.settings.basic_auth()
            self._http = httpx.AsyncClient(
                base_url=self.settings.rest_url,
                headers={"Accept": "application/json", **self.settings.auth_headers()},
                auth=httpx.BasicAuth(*basic) if basic else None,
                verify=self.settings.ssl_context() if self.settings.rest_url.startswith("https") else True,
                timeout=self.settings.timeout,
            )
        return self._http

    async def call(self, call: calls.ApiCall[T]) -> T:
        backoff = _Backoff(self.retry, call)
        while True:
            try:
                return await self._once(call)
            except FlinkRestError as err:
                await asyncio.sleep(backoff.delay_or_raise(err))

    async def _once(self, call: calls.ApiCall[T]) -> T:
        import httpx

        url = self.settings.rest_url + call.path
        try:
            response = await self._client().request(call.method, call.path, params=call.params or None, json=call.json)
        except httpx.HTTPError as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        return interpret_response(
            call, url, response.status_code, response.headers.get("content-type", ""), response.text
        )

    async def aclose(self) -> None:
        """Close the pool if this client owns it; a later call opens a new one."""
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
