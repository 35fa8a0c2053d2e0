"""Sync (requests) and async (httpx) ResourceManager REST clients with RM HA failover.

Same retry rules as the Flink REST clients (:class:`~airflow_provider_flinkbatch.rest.client.RetryPolicy`,
one backoff implementation), same error classes. RM HA: every call starts at the RM that answered
last; a standby RM (HTTP 307 to the active one, or a "This is standby RM" page) is followed or
skipped, an unreachable one is skipped; only when no RM answers does the call back off and retry.
SPNEGO (Kerberos) is optional: ``requests-kerberos`` / ``httpx-gssapi`` are imported only when the
connection asks for it (extra ``[kerberos]``).
"""

from __future__ import annotations

import json
import re
import ssl
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import requests

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
    if STANDBY_MARKER in text or status in (301, 302, 303, 307, 308):
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
    def exhausted(errors: list[FlinkRestError]) -> FlinkUnreachableError:
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


def _ssl_verify(verify: bool | str) -> Any:
    """httpx takes an SSLContext for a CA bundle (a path string is deprecated there)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify


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
            except FlinkUnreachableError as err:  # down, standby, or 5xx: the next RM may be the active one
                errors.append(err)
                continue
            self._rms.answered(base)
            return result
        raise self._rms.exhausted(errors)

    def _once(self, base: str, call: ApiCall[T]) -> T:
        url = base + call.path
        try:
            response = self._session.request(
                call.method,
                url,
                params=_params(self.settings, call) or None,
                json=call.json,
                timeout=self.settings.timeout,
                verify=self.settings.verify,
                allow_redirects=True,  # a standby RM redirects (307) to the active one; PUT is replayed
            )
        except requests.RequestException as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        try:
            return interpret_rm_response(
                call, url, response.status_code, response.headers.get("content-type", ""), response.text
            )
        except FlinkNotFoundError as err:
            raise _not_found(err, call, self._cluster_info(base)) from err

    def _cluster_info(self, base: str) -> str | None:
        try:
            answer = self._session.get(
                base + CLUSTER_INFO,
                params=_params(self.settings, ApiCall("GET", CLUSTER_INFO, dict)) or None,
                timeout=self.settings.timeout,
                verify=self.settings.verify,
            )
        except requests.RequestException:
            return None
        return answer.text if answer.ok else None

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
                verify=_ssl_verify(self.settings.verify),
                timeout=self.settings.timeout,
                follow_redirects=True,
            )
        return self._pool

    async def _attempt(self, call: ApiCall[T]) -> T:
        errors: list[FlinkRestError] = []
        for base in self._rms.order():
            try:
                result = await self._once(base, call)
            except FlinkUnreachableError as err:
                errors.append(err)
                continue
            self._rms.answered(base)
            return result
        raise self._rms.exhausted(errors)

    async def _once(self, base: str, call: ApiCall[T]) -> T:
        url = base + call.path
        try:
            response = await self._client().request(
                call.method, url, params=_params(self.settings, call) or None, json=call.json
            )
        except httpx.HTTPError as err:
            raise _transport_error(err, url, self.settings.timeout) from err
        try:
            return interpret_rm_response(
                call, url, response.status_code, response.headers.get("content-type", ""), response.text
            )
        except FlinkNotFoundError as err:
            raise _not_found(err, call, await self._cluster_info(base)) from err

    async def _cluster_info(self, base: str) -> str | None:
        try:
            answer = await self._client().get(
                base + CLUSTER_INFO, params=_params(self.settings, ApiCall("GET", CLUSTER_INFO, dict)) or None
            )
        except httpx.HTTPError:
            return None
        return answer.text if answer.is_success else None

    async def aclose(self) -> None:
        """Close the pool if this client owns it; a later call opens a new one."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()
