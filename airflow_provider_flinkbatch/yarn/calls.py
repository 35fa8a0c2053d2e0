"""The ResourceManager REST endpoints the provider uses, as data (executed by :mod:`.client`).

Shapes follow the Hadoop RM REST API docs: ``{"app": {...}}``, ``{"apps": {"app": [...]}}`` (or
``{"apps": null}`` when nothing matches), ``{"state": "..."}``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkbatch.rest.calls import ApiCall
from airflow_provider_flinkbatch.yarn.tags import check_app_id

APPS = "/ws/v1/cluster/apps"


def _app(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or not isinstance(body.get("app"), dict):
        raise KeyError("expected JSON object with 'app'")
    return dict(body["app"])


def _apps(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or "apps" not in body:
        raise KeyError("expected JSON object with 'apps'")
    return list((body["apps"] or {}).get("app") or [])


def _state(body: Any) -> str:
    if not isinstance(body, dict) or "state" not in body:
        raise KeyError("expected JSON object with 'state'")
    return str(body["state"])


def application(app_id: str) -> ApiCall[dict[str, Any]]:
    return ApiCall("GET", f"{APPS}/{check_app_id(app_id)}", _app)


def applications_by_tags(tags: list[str], states: frozenset[str] | None = None) -> ApiCall[list[dict[str, Any]]]:
    """Applications carrying ANY of ``tags`` (YARN matches lower-cased, any-of), in any of ``states`` if given."""
    if not tags or any("," in tag for tag in tags):
        raise ValueError(f"tags must be a non-empty list without commas, got {tags!r}")
    params = {"applicationTags": ",".join(t.lower() for t in tags)}
    if states:
        params["states"] = ",".join(sorted(states))
    return ApiCall("GET", APPS, _apps, params=params)


def kill(app_id: str) -> ApiCall[str]:
    """``PUT .../state {"state": "KILLED"}``: 202 while the kill is under way, 200 once KILLED.
    Idempotent (killing a killed or finished application changes nothing), so it is retried."""
    return ApiCall("PUT", f"{APPS}/{check_app_id(app_id)}/state", _state, json={"state": "KILLED"})


def _leaf_queues(node: Any) -> list[str]:
    """Leaf queue names anywhere in a scheduler answer (CapacityScheduler ``queues.queue[]``, Fair
    ``childQueues``): the names an application may be submitted to."""
    if isinstance(node, list):
        return [name for item in node for name in _leaf_queues(item)]
    if not isinstance(node, dict):
        return []
    children = [_leaf_queues(value) for key, value in node.items() if key in ("queues", "queue", "childQueues")]
    found = [name for names in children for name in names]
    if not found and isinstance(node.get("queueName"), str):
        return [str(node["queueName"])]
    return found


def queue_names() -> ApiCall[list[str]]:
    """``GET /ws/v1/cluster/scheduler``: the leaf queues (to name them when YARN refuses a queue)."""

    def parse(body: Any) -> list[str]:
        info = body["scheduler"]["schedulerInfo"]
        return sorted(set(_leaf_queues(info.get("queues") or info.get("rootQueue") or {})))

    return ApiCall("GET", "/ws/v1/cluster/scheduler", parse)
