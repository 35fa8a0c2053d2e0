"""FlinkKubernetesTrigger without a cluster: serialization round trip, and an unreachable API ends the wait."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_flinkbatch.triggers.kubernetes import FlinkKubernetesTrigger


def test_serialize_round_trip() -> None:
    trigger = FlinkKubernetesTrigger(
        job_id="a" * 32, ref="ns/name-0", plural="flinkdeployments", kubernetes_conn_id="k", rest_url="http://x:8081"
    )
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_flinkbatch.triggers.kubernetes.FlinkKubernetesTrigger"
    assert FlinkKubernetesTrigger(**kwargs).serialize() == (path, kwargs)


def test_unreachable_kubernetes_api_ends_in_an_error_event_after_the_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_KUBERNETES_DOWN",
        json.dumps({"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}),
    )
    trigger = FlinkKubernetesTrigger(
        job_id="b" * 32,
        ref="ns/name-0",
        plural="flinkdeployments",
        kubernetes_conn_id="kubernetes_down",
        poll_interval=0.1,
        transient_error_budget=1.0,
    )

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(asyncio.wait_for(first(), 60))

    assert event["status"] == "error" and event["job_id"] == "b" * 32
    assert f"127.0.0.1:{port}" in event["message"]
