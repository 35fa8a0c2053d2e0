"""Bounded HTTP answers, alike for the sync (requests) and async (httpx) clients.

An idle timeout alone lets a server that drips one byte at a time hold a worker (or the triggerer's
event loop task) forever, and a multi-GB body would be read into memory before parsing. So:

* the body is read in chunks against a *total* deadline (the connection's ``timeout``, counted from the
  start of the request): async with ``asyncio.timeout`` around connect, headers and body; sync checked
  between chunks (``read1`` returns what has arrived, each read bounded by the idle timeout), so a sync
  call ends within ``timeout`` plus at most one idle read;
* a body larger than :data:`MAX_RESPONSE_BYTES` fails as soon as it is declared (``Content-Length``) or
  read that far;
* redirects are never followed (by either client): a 307/308 would re-send a submission body, any
  redirect could carry the credentials to another origin. A 3xx fails with where it pointed. (The YARN RM
  client turns a standby RM's 307 into "try the next configured RM" before this rule applies.)

The messages name the service (:class:`Service`): :data:`FLINK` for the Flink REST clients,
:data:`YARN_RM` for the ResourceManager clients.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from airflow_provider_flinkbatch.rest.errors import FlinkBadResponseError, FlinkServerError, FlinkUnreachableError
from airflow_provider_flinkbatch.rest.settings import split_credentials

#: Largest answer read. Flink's REST answers are kilobytes; /jobs/overview of thousands of jobs a few MiB.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Service:
    """What the messages say about the server: why a huge answer is wrong, where a redirect should lead."""

    too_large_hint: str
    redirect_hint: str


FLINK = Service(
    too_large_hint="Flink's REST answers are far smaller: is the connection's host the Flink REST endpoint?",
    redirect_hint="set the connection's host to the URL Flink answers on",
)
YARN_RM = Service(
    too_large_hint="ResourceManager answers are far smaller: is every URL of the flink_yarn connection a YARN "
    "ResourceManager (http://<rm>:8088)?",
    redirect_hint="if it is this cluster's active ResourceManager, add its URL to the flink_yarn connection's rm_urls",
)


def too_large(method: str, url: str, service: Service = FLINK) -> FlinkBadResponseError:
    return FlinkBadResponseError(
        f"{method} {url} answered with more than {MAX_RESPONSE_BYTES // 1024 // 1024} MiB; {service.too_large_hint}",
        url=url,
    )


def too_slow(method: str, url: str, timeout: float) -> FlinkUnreachableError:
    return FlinkUnreachableError(
        f"{method} {url} did not finish within {timeout:g}s (connect, headers and body together): the server "
        "answers too slowly; check the proxy or raise the connection's timeout",
        url=url,
    )


def redirect_location(headers: Any) -> str:
    """Where a 3xx points, without credentials embedded in the URL."""
    return split_credentials(str(headers.get("location") or "?"))[0]


def redirect_refused(method: str, url: str, status: int, location: str, service: Service = FLINK) -> FlinkServerError:
    return FlinkServerError(
        f"{method} {url} answered HTTP {status}, a redirect to {location}: the provider follows no redirects "
        f"(one could carry the submission or the credentials to another server); {service.redirect_hint}",
        url=url,
        status=status,
    )


def check_status(method: str, url: str, status: int, headers: Any, service: Service = FLINK) -> None:
    """Refuse a redirect (see the module docstring) and a body declared larger than the cap."""
    if 300 <= status < 400:
        raise redirect_refused(method, url, status, redirect_location(headers), service)
    declared = str(headers.get("content-length") or "")
    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise too_large(method, url, service)


def read_sync(response: Any, method: str, url: str, timeout: float, started: float, service: Service = FLINK) -> str:
    """The body of a ``requests`` response opened with ``stream=True``, within the deadline and the cap."""
    try:
        check_status(method, url, response.status_code, response.headers, service)
        body = bytearray()
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            body += chunk
            if len(body) > MAX_RESPONSE_BYTES:
                raise too_large(method, url, service)
            if time.monotonic() - started > timeout:
                raise too_slow(method, url, timeout)
    finally:
        response.close()
    return body.decode(response.encoding or "utf-8", errors="replace")


async def read_async(response: Any, method: str, url: str, service: Service = FLINK) -> str:
    """The body of an httpx streamed response within the cap (the caller holds the total deadline)."""
    check_status(method, url, response.status_code, response.headers, service)
    body = bytearray()
    async for chunk in response.aiter_bytes(_CHUNK):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise too_large(method, url, service)
    return body.decode(response.encoding or "utf-8", errors="replace")
