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


def applications_by_tags(tags: list[str]) -> ApiCall[list[dict[str, Any]]]:
    """Applications carrying ANY of ``tags`` (YARN matches lower-cased, any-of)."""
    if not tags or any("," in tag for tag in tags):
        raise ValueError(f"tags must be a non-empty list without commas, got {tags!r}")
    return ApiCall("GET", APPS, _apps, params={"applicationTags": ",".join(t.lower() for t in tags)})


def kill(app_id: str) -> ApiCall[str]:
    """``PUT .../state {"state": "KILLED"}``: 202 while the kill is under way, 200 once KILLED.
    Idempotent (killing a killed or finished application changes nothing), so it is retried."""
    return ApiCall("PUT", f"{APPS}/{check_app_id(app_id)}/state", _state, json={"state": "KILLED"})
