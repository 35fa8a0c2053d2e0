"""Sync (requests) and async (httpx) ResourceManager REST clients with RM HA failover.

Same retry rules as the Flink REST clients (:class:`~airflow_provider_flinkbatch.rest.client.RetryPolicy`,
one backoff implementation), same error classes, same bounds on every answer (:mod:`..rest.limits`:
a total deadline over connect, headers and body; a 32 MiB body cap). RM HA: every call starts at the
RM that answered last; a standby RM (HTTP 307 to the active one, or a "This is standby RM" page) is
skipped for the next configured RM, an unreachable one too; only when no RM answers does the call back
off and retry. Redirects are never followed: a 307 to a configured RM just says "try that one", a
redirect anywhere else is refused (it could carry the kill request or the credentials to another server).
SPNEGO (Kerberos) is optional: ``requests-kerberos`` / ``httpx-gssapi`` are imported only when the
connection asks for it (extra ``[kerberos]``).
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import certifi
import httpx
import requests
import urllib3

from airflow_provider_flinkbatch.rest import limits
from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.rest.client import (
    AsyncRetryingClient,
    RetryingClient,
    RetryPolicy,
    _transport_error,
    parse_json,
)
from airflow_provider_flinkbatch.rest.errors import (
    FlinkAuthError,
    FlinkNotFoundError,
    FlinkRestError,
    FlinkServerError,
    FlinkUnreachableError,
)
from airflow_provider_flinkbatch.rest.tls import shared_ssl_context

if TYPE_CHECKING:
    from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings

T = TypeVar("T")
STANDBY_MARKER = "This is standby RM"


class StandbyResourceManager(FlinkUnreachableError):
    """This RM is a standby and did not redirect: try the next one."""


class RecoveringResourceManager(FlinkUnreachableError):
    """The RM restarted after the application was submitted and does not know it (yet): a restarted RM
    serves REST before it has recovered its applications from the state store, so wait and ask again."""


_APP_PATH = re.compile(r"^/ws/v1/cluster/apps/application_(\d+)_\d+(/|$)")
CLUSTER_INFO = "/ws/v1/cluster/info"


def _application_epoch(call: ApiCall[Any]) -> int | None:
    """The cluster timestamp in the id of the application the call is about (the RM start that made it)."""
    match = _APP_PATH.match(call.path)
    return int(match.group(1)) if match else None


def _not_found(err: FlinkNotFoundError, call: ApiCall[Any], info_text: str | None) -> FlinkRestError:
    """A 404 for an application from an earlier RM start is transient (recovery under way); else final."""
    epoch = _application_epoch(call)
    try:
        current = int(json.loads(info_text or "{}").get("clusterInfo", {}).get("id") or 0)
    except (ValueError, AttributeError, TypeError):
        current = 0
    if epoch is None or not current or current == epoch:
        return err
    return RecoveringResourceManager(
        f"{err}; the ResourceManager restarted since (cluster id {current}, the application is from {epoch}) "
        "and may still be recovering it",
        url=err.url,
        status=err.status,
    )


def interpret_rm_response(call: ApiCall[T], url: str, status: int, content_type: str, text: str) -> T:
    """One RM answer -> parsed value, or the error class that says what to do about it."""
    where = f"{call.method} {url}"
    if STANDBY_MARKER in text:
        raise StandbyResourceManager(f"{where}: standby ResourceManager ({text[:200]!r})", url=url, status=status)
    body: Any = None
    try:
        body = json.loads(text) if text.strip() else None
    except ValueError:
        body = None
    remote = body.get("RemoteException") if isinstance(body, dict) else None
    detail = f"{remote.get('exception')}: {remote.get('message')}" if isinstance(remote, dict) else repr(text[:300])
    if status in (401, 403):
        raise FlinkAuthError(
            f"{where} was refused with HTTP {status} ({detail}): on a secure cluster enable spnego in the "
            "flink_yarn connection (with a Kerberos ticket on the worker); on a simple-auth cluster set its "
            "login to a YARN user allowed to view/kill the application",
            url=url,
            status=status,
        )
    if status == 404:
        raise FlinkNotFoundError(f"{where}: not found (HTTP 404): {detail}", url=url, status=status)
    if status >= 500 or status == 429:
        raise FlinkUnreachableError(f"{where} answered HTTP {status}: {detail}", url=url, status=status)
    if status >= 400:
        raise FlinkServerError(f"{where} failed with HTTP {status}: {detail}", url=url, status=status, errors=[detail])
    not_json = (
        f"{where} answered HTTP {status} with {text[:200]!r} instead of JSON: is the URL a YARN "
        "ResourceManager (http://<rm>:8088)?"
    )
    return parse_json(call, url, status, body, text, not_json=not_json)


def _origin(url: str) -> tuple[str, str, int]:
    split = urlsplit(url)
    return split.scheme.lower(), (split.hostname or "").lower(), split.port or (443 if split.scheme == "https" else 80)


def redirect_error(call: ApiCall[Any], url: str, status: int, headers: Any, rm_urls: list[str]) -> FlinkRestError:
    """A 3xx from an RM, not followed: a standby pointing at a configured RM is skipped (that RM is asked in
    its turn), a redirect to any other server is refused."""
    location = limits.redirect_location(headers)
    if _origin(urljoin(url, location)) in {_origin(rm) for rm in rm_urls}:
        return StandbyResourceManager(
            f"{call.method} {url}: standby ResourceManager (HTTP {status} to {location}, a configured RM)",
            url=url,
            status=status,
        )
    return limits.redirect_refused(call.method, url, status, location, limits.YARN_RM)


def _refused_redirect(err: FlinkRestError) -> bool:
    return isinstance(err, FlinkServerError) and err.status is not None and 300 <= err.status < 400


class _ResourceManagers:
    """The RM URLs in the order to try them: the one that answered last first."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = list(urls)
        self.active = 0

    def order(self) -> list[str]:
        return self.urls[self.active :] + self.urls[: self.active]

    def answered(self, url: str) -> None:
        self.active = self.urls.index(url)

    @staticmethod
    def skippable(err: FlinkRestError) -> bool:
        """Down, standby, 5xx, or a refused redirect: another configured RM may be the active one."""
        return isinstance(err, FlinkUnreachableError) or _refused_redirect(err)

    @staticmethod
    def exhausted(errors: list[FlinkRestError]) -> FlinkRestError:
        """No RM answered: a refused redirect first (retrying cannot help), else "none is reachable"."""
        refused = [err for err in errors if _refused_redirect(err)]
        if refused:
            return refused[0]
        return FlinkUnreachableError(
            "no active YARN ResourceManager answered: " + "; ".join(str(e) for e in errors), url=errors[-1].url
        )


def _params(settings: YarnConnectionSettings, call: ApiCall[Any]) -> dict[str, str]:
    params = dict(call.params)
    if settings.user and not settings.spnego:
        params["user.name"] = settings.user  # simple (pseudo) authentication
    return params


def _missing_kerberos(err: ImportError) -> ImportError:
    return ImportError(
        f"the flink_yarn connection enables spnego, but {err.name} is not installed: "
        "pip install 'airflow-provider-flinkbatch[kerberos]'"
    )


def requests_auth(settings: YarnConnectionSettings) -> Any:
    """SPNEGO auth for requests (also used for the YARN web proxy), or None."""
    if not settings.spnego:
        return None
    try:
        # optional extra [kerberos]: only for connections with spnego.
        from requests_kerberos import OPTIONAL, HTTPKerberosAuth
    except ImportError as err:
        raise _missing_kerberos(err) from err
    return HTTPKerberosAuth(mutual_authentication=OPTIONAL)


def httpx_auth(settings: YarnConnectionSettings) -> Any:
    if not settings.spnego:
        return None
    try:
        # optional extra [kerberos]: only for connections with spnego.
        from httpx_gssapi import OPTIONAL, HTTPSPNEGOAuth
    except ImportError as err:
        raise _missing_kerberos(err) from err
    return HTTPSPNEGOAuth(mutual_authentication=OPTIONAL)


def _ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The shared context (built once per process, ``rest/tls.py``); ``True`` trusts certifi's CAs, as requests
    does for the blocking client and httpx did by default."""
    return shared_ssl_context(certifi.where() if verify is True else verify)


class YarnRmClient(RetryingClient["YarnConnectionSettings"]):
    """Blocking RM client (worker side: submit, find, kill)."""

    def __init__(self, settings: YarnConnectionSettings, retry: RetryPolicy | None = None) -> None:
        super().__init__(settings, retry)
        self._rms = _ResourceManagers(settings.rm_urls)
        self._session: requests.Session = requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        self._session.auth = requests_auth(settings)

    def _attempt(self, call: ApiCall[T]) -> T:
        """Each RM in turn (the last one that answered first); only when none answers is this try lost."""
        errors: list[FlinkRestError] = []
        for base in self._rms.order():
            try:
                result = self._once(base, call)
            except FlinkRestError as err:
                if not self._rms.skippable(err):
                    raise
                errors.append(err)
                continue
            self._rms.answered(base)
            return result
        raise self._rms.exhausted(errors)

    def _once(self, base: str, call: ApiCall[T]) -> T:
        url = base + call.path
        status, headers, text = self._exchange(base, call)
        try:
            return interpret_rm_response(call, url, status, headers.get("content-type", ""), text)
        except FlinkNotFoundError as err:
            raise _not_found(err, call, self._cluster_info(base)) from err

    def _exchange(self, base: str, call: ApiCall[Any]) -> tuple[int, Any, str]:
        """One request to one RM, its answer bounded by :mod:`..rest.limits`; no redirect followed."""
        url = base + call.path
        started = time.monotonic()
        try:
            response = self._session.request(
                call.method,
                url,
                params=_params(self.settings, call) or None,
                json=call.json,
                timeout=self.settings.timeout,
                verify=self.settings.verify,
                allow_redirects=False,  # see redirect_error
                stream=True,  # read by limits.read_sync: total deadline, size cap
            )
            if 300 <= response.status_code < 400:
                response.close()
                raise redirect_error(call, url, response.status_code, response.headers, self.settings.rm_urls)
            text = limits.read_sync(response, call.method, url, self.settings.timeout, started, limits.YARN_RM)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        return response.status_code, response.headers, text

    def _cluster_info(self, base: str) -> str | None:
        try:
            status, _, text = self._exchange(base, ApiCall("GET", CLUSTER_INFO, dict))
        except FlinkRestError:
            return None
        return text if status < 300 else None

    def close(self) -> None:
        self._session.close()


class AsyncYarnRmClient(AsyncRetryingClient["YarnConnectionSettings"]):
    """Non-blocking twin of :class:`YarnRmClient` for the trigger; same calls, errors, failover."""

    def __init__(self, settings: YarnConnectionSettings, retry: RetryPolicy | None = None) -> None:
        super().__init__(settings, retry)
        self._rms = _ResourceManagers(settings.rm_urls)
        self._pool: httpx.AsyncClient | None = None  # made on first call, reopened after aclose
        self._owner: AsyncYarnRmClient | None = None

    def sharing(self, retry: RetryPolicy) -> AsyncYarnRmClient:
        """A client with its own retry policy on this client's connection pool and active-RM choice.

        The triggers of one ResourceManager then reuse the shared poller's connections instead of one pool each.
        """
        other = AsyncYarnRmClient(self.settings, retry)
        other._owner = self
        other._rms = self._rms
        return other

    def _client(self) -> httpx.AsyncClient:
        if self._owner is not None:
            return self._owner._client()
        if self._pool is None:
            self._pool = httpx.AsyncClient(
                headers={"Accept": "application/json"},
                auth=httpx_auth(self.settings),
                verify=_ssl_context(self.settings.verify),
                timeout=self.settings.timeout,
                follow_redirects=False,  # see redirect_error
            )
        return self._pool

    async def _attempt(self, call: ApiCall[T]) -> T:
        errors: list[FlinkRestError] = []
        for base in self._rms.order():
            try:
                result = await self._once(base, call)
            except FlinkRestError as err:
                if not self._rms.skippable(err):
                    raise
                errors.append(err)
                continue
            self._rms.answered(base)
            return result
        raise self._rms.exhausted(errors)

    async def _once(self, base: str, call: ApiCall[T]) -> T:
        url = base + call.path
        status, headers, text = await self._exchange(base, call)
        try:
            return interpret_rm_response(call, url, status, headers.get("content-type", ""), text)
        except FlinkNotFoundError as err:
            raise _not_found(err, call, await self._cluster_info(base)) from err

    async def _exchange(self, base: str, call: ApiCall[Any]) -> tuple[int, Any, str]:
        """The twin of :meth:`YarnRmClient._exchange`: the whole exchange within the connection's timeout."""
        url = base + call.path
        try:
            async with asyncio.timeout(self.settings.timeout):  # connect + headers + body: see limits.py
                request = self._client().stream(
                    call.method, url, params=_params(self.settings, call) or None, json=call.json
                )
                async with request as response:
                    if 300 <= response.status_code < 400:
                        raise redirect_error(call, url, response.status_code, response.headers, self.settings.rm_urls)
                    text = await limits.read_async(response, call.method, url, limits.YARN_RM)
        except TimeoutError as err:
            raise limits.too_slow(call.method, url, self.settings.timeout) from err
        except httpx.HTTPError as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        return response.status_code, response.headers, text

    async def _cluster_info(self, base: str) -> str | None:
        try:
            status, _, text = await self._exchange(base, ApiCall("GET", CLUSTER_INFO, dict))
        except FlinkRestError:
            return None
        return text if status < 300 else None

    async def aclose(self) -> None:
        """Close the pool if this client owns it; a later call opens a new one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()
