"""Reading the REAL local YARN cluster the way an operator of it would: RM REST, NodeManager REST, processes.

Expected values in the tests come from these answers (Hadoop's own), never from the provider's code.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster

FINAL = {"FINISHED", "FAILED", "KILLED"}


def rm_url(cluster: LocalYarnCluster) -> str:
    info = cluster.info()
    assert info is not None, "the local YARN cluster is not running"
    return info.rm_url


def apps(cluster: LocalYarnCluster, **params: str) -> list[dict[str, Any]]:
    """``GET /ws/v1/cluster/apps`` (``applicationTags=...`` matches any of the tags)."""
    answer = requests.get(f"{rm_url(cluster)}/ws/v1/cluster/apps", params=params, timeout=10).json()
    return list((answer.get("apps") or {}).get("app") or [])


def apps_named(cluster: LocalYarnCluster, name: str) -> list[dict[str, Any]]:
    return sorted((app for app in apps(cluster) if app["name"] == name), key=lambda app: app["startedTime"])


def app(cluster: LocalYarnCluster, app_id: str) -> dict[str, Any]:
    return dict(requests.get(f"{rm_url(cluster)}/ws/v1/cluster/apps/{app_id}", timeout=10).json()["app"])


def wait_for_app(cluster: LocalYarnCluster, name: str, states: set[str], timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = apps_named(cluster, name)
        if found and found[-1]["state"] in states:
            return found[-1]
        time.sleep(0.5)
    raise AssertionError(f"no application {name!r} in {states} within {timeout}s: {apps_named(cluster, name)}")


def wait_until_final(cluster: LocalYarnCluster, app_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = app(cluster, app_id)
        if found["state"] in FINAL or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def live_containers(cluster: LocalYarnCluster, app_id: str) -> list[str]:
    """Containers of the application that a NodeManager still runs (``/ws/v1/node/containers``)."""
    alive = []
    for node in cluster.nodes():
        answer = requests.get(f"http://{node['nodeHTTPAddress']}/ws/v1/node/containers", timeout=10).json()
        for container in (answer.get("containers") or {}).get("container") or []:
            if app_id.removeprefix("application_") in container["id"] and container["state"] in {
                "NEW",
                "LOCALIZING",
                "RUNNING",
            }:
                alive.append(f"{container['id']} {container['state']} on {node['nodeHTTPAddress']}")
    return alive


def container_processes(cluster: LocalYarnCluster, app_id: str) -> list[int]:
    """Processes (JobManager/TaskManager JVMs) still running in the application's container directories."""
    import os

    return [pid for pid in cluster.container_pids() if app_id in os.readlink(f"/proc/{pid}/cwd")]


class StateRecorder:
    """Polls the RM every 0.3 s and keeps each application's distinct state/finalStatus sequence."""

    def __init__(self, cluster: LocalYarnCluster) -> None:
        self.cluster = cluster
        self.seen: dict[str, list[str]] = {}
        self.proxied: dict[str, dict[str, Any]] = {}  # Flink's /jobs/overview through the RM web proxy
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StateRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for found in apps(self.cluster):
                    states = self.seen.setdefault(found["id"], [])
                    state = f"{found['state']}/{found['finalStatus']}"
                    if not states or states[-1] != state:
                        states.append(state)
                    if found["state"] == "RUNNING" and found["id"] not in self.proxied:
                        self._proxy(found)
            except (requests.RequestException, ValueError):
                pass  # RM restarting
            self._stop.wait(0.3)

    def _proxy(self, found: dict[str, Any]) -> None:
        answer = requests.get(f"{found['trackingUrl'].rstrip('/')}/jobs/overview", timeout=5)
        if answer.ok and answer.headers.get("content-type", "").startswith("application/json"):
            jobs = answer.json().get("jobs") or []
            if jobs:
                self.proxied[found["id"]] = jobs[0]


def submit_unmanaged(rm: str, user: str, name: str, tags: list[str], *, managed: bool = False) -> str:
    """A tagged application that waits in ACCEPTED for an unmanaged ApplicationMaster that never comes:
    the RM tracks it like any other (states, tags, kill), at no container's cost.

    ``managed=True``: the RM has a NodeManager launch the ApplicationMaster container (``sleep 600`` in
    256 MiB, it never registers): a kill then goes through the container, as for a Flink JobManager."""
    app_id = str(
        requests.post(f"{rm}/ws/v1/cluster/apps/new-application", params={"user.name": user}, timeout=30).json()[
            "application-id"
        ]
    )
    body = {
        "application-id": app_id,
        "application-name": name,
        "application-type": "flinkbatch-test",
        "unmanaged-AM": not managed,
        "application-tags": {"tag": tags},
        "am-container-spec": {"commands": {"command": "sleep 600"}},
        "resource": {"memory": 256, "vCores": 1},
    }
    answer = requests.post(f"{rm}/ws/v1/cluster/apps", params={"user.name": user}, json=body, timeout=30)
    assert answer.status_code == 202, answer.text
    return app_id


def kill(rm: str, user: str, app_id: str) -> None:
    answer = requests.put(
        f"{rm}/ws/v1/cluster/apps/{app_id}/state", params={"user.name": user}, json={"state": "KILLED"}, timeout=30
    )
    assert answer.status_code in (200, 202), answer.text
