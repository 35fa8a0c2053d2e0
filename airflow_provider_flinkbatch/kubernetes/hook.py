"""FlinkResources: all Kubernetes API I/O of the Kubernetes backend, sync (target) and async (trigger).

Access goes through the Airflow Kubernetes connection (``KubernetesHook`` / ``AsyncKubernetesHook``:
in-cluster, kubeconfig, context). The Kubernetes clients are optional heavy dependencies: they are
imported only when a task or the triggerer talks to the API server. API errors leave this module as
the provider's own (:class:`ResourceExists`, :class:`ResourceRefused`, :class:`ResourceAnswerLost`) or as
"not there" (``None``). Every blocking call has a deadline (:data:`API_TIMEOUT`): a create whose answer
does not come in time may still have stored the resource, so it is a lost answer, not a refusal.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import urllib3

from airflow_provider_flinkbatch.kubernetes.manifests import GROUP, VERSION, owned_selector
from airflow_provider_flinkbatch.rest.client import RetryPolicy

#: Where cancelling puts a resource: the operator then cancels the Flink job and keeps the resource.
SUSPEND = {"spec": {"job": {"state": "suspended"}}}


#: Seconds one blocking API call may take (the kubernetes client's ``_request_timeout``).
API_TIMEOUT = 60.0

#: HTTP statuses of the API server that can pass (0: no answer at all).
_TRANSIENT_STATUS = frozenset({0, 408, 429, 500, 502, 503, 504})


def transient_api_error(err: BaseException) -> bool:
    """An API error that can pass (5xx, 429, connection loss), as opposed to a refusal or a missing resource."""
    status = getattr(err, "status", None)
    if isinstance(status, int):
        return status in _TRANSIENT_STATUS
    return isinstance(err, (OSError, asyncio.TimeoutError)) or type(err).__module__.startswith("aiohttp")


def _sent_or_passing(err: BaseException) -> bool:
    """A transient API error, or a request whose answer did not come (urllib3's timeouts, dropped connections)."""
    return transient_api_error(err) or isinstance(err, urllib3.exceptions.HTTPError)


class ResourceExists(Exception):
    """A resource of this name exists already (another worker created it)."""


class ResourceRefused(Exception):
    """The API server refused the resource; the message is its ``Status.message``."""


class ResourceAnswerLost(Exception):
    """A request was sent but no answer came (timeout, dropped connection, a passing 5xx): it may have been done."""


def _lost(err: Exception) -> ResourceAnswerLost:
    status = getattr(err, "status", None)
    if isinstance(status, int) and status:
        return ResourceAnswerLost(f"HTTP {status}: {_api_message(err)}")
    return ResourceAnswerLost(f"{type(err).__name__}: {err}")


def _api_message(err: Exception) -> str:
    """The API server's ``Status.message`` (why a resource was refused), else the exception text."""
    body = getattr(err, "body", None)
    if body:
        try:
            return str(json.loads(body).get("message") or body)
        except (ValueError, AttributeError):
            return str(body)
    return str(err)


def _api_exception() -> Any:
    """The kubernetes client's ``ApiException``: the client is an optional heavy dependency (DAGs using the
    Kubernetes sensor import this module when parsed), so it loads when a task first talks to the API server."""
    from kubernetes.client.exceptions import ApiException

    return ApiException


@asynccontextmanager
async def _async_custom_objects(kubernetes_conn_id: str) -> AsyncIterator[Any]:
    """A ``kubernetes_asyncio`` ``CustomObjectsApi`` on the connection (optional: loaded in the triggerer of a
    Kubernetes task only)."""
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import AsyncKubernetesHook
    from kubernetes_asyncio.client import CustomObjectsApi

    async with AsyncKubernetesHook(conn_id=kubernetes_conn_id).get_conn() as api_client:
        yield CustomObjectsApi(api_client)


class FlinkResources:
    """This provider's custom resources of one kind (``plural``) in one namespace, and their SQL ConfigMaps."""

    def __init__(self, custom_objects: Any, core: Any, namespace: str, plural: str) -> None:
        self.custom_objects = custom_objects
        self.core = core
        self.namespace = namespace
        self.plural = plural
        self.timeout = API_TIMEOUT

    @classmethod
    def from_connection(cls, kubernetes_conn_id: str, namespace: str, plural: str) -> FlinkResources:
        # kubernetes client (cncf.kubernetes provider): loaded only when a task talks to the API server.
        from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

        hook = KubernetesHook(conn_id=kubernetes_conn_id)
        return cls(hook.custom_object_client, hook.core_v1_client, namespace, plural)

    def list(self, label_selector: str) -> list[dict[str, Any]]:
        answer = self.custom_objects.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, self.plural, label_selector=label_selector, _request_timeout=self.timeout
        )
        return list(answer.get("items") or [])

    def get(self, name: str) -> dict[str, Any] | None:
        """The resource, or ``None`` when it does not exist."""
        api_exception = _api_exception()
        try:
            return dict(
                self.custom_objects.get_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, self.plural, name, _request_timeout=self.timeout
                )
            )
        except api_exception as err:
            if err.status == 404:
                return None
            raise

    def look_up(self, name: str) -> dict[str, Any] | None:
        """:meth:`get` after a lost answer: a failure to ask is :class:`ResourceAnswerLost` too."""
        try:
            return self.get(name)
        except (_api_exception(), urllib3.exceptions.HTTPError, OSError) as err:
            raise _lost(err) from err

    def create(self, body: dict[str, Any], owned_by: Any) -> None:
        """Create the resource, then what it owns (``owned_by(uid)``: its SQL ConfigMap, its Secret)."""
        api_exception = _api_exception()
        try:
            created = self.custom_objects.create_namespaced_custom_object(
                GROUP, VERSION, self.namespace, self.plural, body, _request_timeout=self.timeout
            )
        except api_exception as err:
            if err.status == 409:
                raise ResourceExists(_api_message(err)) from err
            if transient_api_error(err):  # e.g. 504 "request did not complete": it may be stored all the same
                raise _lost(err) from err
            raise ResourceRefused(_api_message(err)) from err
        except (urllib3.exceptions.HTTPError, OSError) as err:  # sent, no answer: it may be stored
            raise _lost(err) from err
        self.create_owned(created["metadata"]["uid"], owned_by)

    def create_owned(self, uid: str, owned_by: Any) -> None:
        """What the resource ``uid`` owns (its SQL ConfigMap, its Secret); ones that exist are kept."""
        api_exception = _api_exception()
        for owned in owned_by(uid):
            create = (
                self.core.create_namespaced_secret
                if owned["kind"] == "Secret"
                else self.core.create_namespaced_config_map
            )
            # idempotent (an existing one is kept), so a lost answer is simply asked again
            for attempt in RetryPolicy(budget=self.timeout).retrying(_sent_or_passing):
                with attempt:
                    try:
                        create(self.namespace, owned, _request_timeout=self.timeout)
                    except api_exception as err:
                        if err.status != 409:
                            raise

    def patch(self, name: str, body: dict[str, Any]) -> None:
        """Merge-patch the resource; a resource that is gone is left gone."""
        api_exception = _api_exception()
        try:
            self.custom_objects.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, self.plural, name, body, _request_timeout=self.timeout
            )
        except api_exception as err:
            if err.status != 404:
                raise

    def delete(self, name: str) -> None:
        """Delete the resource, its SQL ConfigMap and its Secret (any may be gone already)."""
        api_exception = _api_exception()
        for delete in (
            lambda: self.custom_objects.delete_namespaced_custom_object(
                GROUP, VERSION, self.namespace, self.plural, name
            ),
            # Kubernetes' garbage collector would follow the ownerReference; deleting it now frees it at once.
            lambda: self.core.delete_namespaced_config_map(f"{name}-sql", self.namespace),
            lambda: self.core.delete_namespaced_secret(f"{name}-secrets", self.namespace),
        ):
            try:
                delete()
            except api_exception as err:
                if err.status != 404:
                    raise


class AsyncFlinkResource:
    """One custom resource, for the triggerer (``kubernetes_asyncio``)."""

    def __init__(self, objects: Any, namespace: str, plural: str, name: str) -> None:
        self.objects = objects
        self.namespace = namespace
        self.plural = plural
        self.name = name

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, kubernetes_conn_id: str, namespace: str, plural: str, name: str
    ) -> AsyncIterator[AsyncFlinkResource]:
        async with _async_custom_objects(kubernetes_conn_id) as objects:
            yield cls(objects, namespace, plural, name)

    async def get(self) -> dict[str, Any]:
        resource: dict[str, Any] = await self.objects.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, self.plural, self.name, _request_timeout=API_TIMEOUT
        )
        return resource

    async def suspend(self) -> None:
        await self.objects.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            self.namespace,
            self.plural,
            self.name,
            SUSPEND,
            _content_type="application/merge-patch+json",  # real apiservers refuse json-patch here
            _request_timeout=API_TIMEOUT,
        )


class AsyncFlinkResources:
    """This provider's custom resources of one kind in one namespace, for the triggerer: ONE LIST answers
    every trigger waiting on one of them (``triggers.poller``), and the triggers' own GETs (a resource
    not listed) reuse its API client. The client opens on first use and again after :meth:`aclose`."""

    def __init__(self, kubernetes_conn_id: str, namespace: str, plural: str) -> None:
        self.kubernetes_conn_id = kubernetes_conn_id
        self.namespace = namespace
        self.plural = plural
        self._stack: AsyncExitStack | None = None
        self._objects: Any = None

    async def _api(self) -> Any:
        if self._objects is None:
            stack = AsyncExitStack()
            objects = await stack.enter_async_context(_async_custom_objects(self.kubernetes_conn_id))
            self._stack, self._objects = stack, objects
        return self._objects

    async def listed(self) -> dict[str, dict[str, Any]]:
        """Every resource of this kind and namespace labelled as this provider's, by name (one LIST)."""
        objects = await self._api()
        answer = await objects.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, self.plural, label_selector=owned_selector(), _request_timeout=API_TIMEOUT
        )
        return {str(item["metadata"]["name"]): dict(item) for item in answer.get("items") or []}

    async def resource(self, name: str) -> AsyncFlinkResource:
        """One of them, on the shared API client (for its own GET)."""
        return AsyncFlinkResource(await self._api(), self.namespace, self.plural, name)

    async def aclose(self) -> None:
        stack, self._stack, self._objects = self._stack, None, None
        if stack is not None:
            await stack.aclose()
