"""Secret flink_config values (``config_secrets``) on Kubernetes: in a Secret owned by the FlinkDeployment,
delivered to Flink through ``FLINK_PROPERTIES``, and nowhere in the stored resources, the render output or the log."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import make_request, slow_sql
from k8s.apiserver import ApiServer
from k8s.conftest import NAMESPACE
from k8s.emulator import OperatorEmulator
from k8s.test_target import WAIT, wait_for_event

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.kubernetes.manifests import ManifestError, render
from airflow_provider_flinkbatch.reattach import attach_or_submit
from airflow_provider_flinkbatch.targets.registry import validate_target_options

SECRET_VALUE = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
SECRETS = {"s3.secret-key": SECRET_VALUE, "fs.s3a.access.key": "AKIAEXAMPLE0000SECRET"}


@pytest.mark.integration
def test_secret_config_lives_in_an_owned_secret_and_still_reaches_flink(
    make_target: Callable[..., Any],
    kube_api: ApiServer,
    operator_emulator: OperatorEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kubernetes import client

    target = make_target(inline_sql_max_bytes=16)  # the SQL goes to a ConfigMap, too
    request = make_request(slow_sql(5), "k8s-secret", **SECRETS, **{"parallelism.default": "1"})
    with caplog.at_level(logging.DEBUG):
        handle = attach_or_submit(target, request).handle
        event = wait_for_event(target.trigger(handle, WAIT))
    assert event["state"] == "FINISHED"
    name = str(handle.ref).split("/")[1]

    core = client.CoreV1Api(kube_api.api_client())
    objects = client.CustomObjectsApi(kube_api.api_client())
    stored = objects.get_namespaced_custom_object("flink.apache.org", "v1beta1", NAMESPACE, "flinkdeployments", name)
    secret = core.read_namespaced_secret(f"{name}-secrets", NAMESPACE)
    config_map = core.read_namespaced_config_map(f"{name}-sql", NAMESPACE)
    [owner] = secret.metadata.owner_references
    assert (owner.kind, owner.name, owner.uid) == ("FlinkDeployment", name, stored["metadata"]["uid"])
    everything_stored = json.dumps(stored) + json.dumps(config_map.to_dict(), default=str)
    for value in SECRETS.values():
        assert value not in everything_stored and value not in caplog.text
    assert stored["spec"]["flinkConfiguration"]["parallelism.default"] == "1"
    assert not set(SECRETS) & set(stored["spec"]["flinkConfiguration"])
    # What the job was submitted with (the emulated entrypoint appended FLINK_PROPERTIES from the Secret).
    received = operator_emulator.received[name]
    assert {k: received[k] for k in SECRETS} == SECRETS

    target.after_terminal(handle, "FINISHED")  # deleted after success: its Secret with it
    names = [s.metadata.name for s in core.list_namespaced_secret(NAMESPACE).items]
    assert f"{name}-secrets" not in names


def test_render_output_shows_no_secret_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "load.sql"
    script.write_text(slow_sql(5))
    options = tmp_path / "k8s.yaml"
    options.write_text("image: registry.example.com/flink:2.3-sql\nnamespace: analytics\n")
    args = ["render", "--target", "kubernetes", str(script), "--target-options", f"@{options}"]
    for key, value in SECRETS.items():
        args += ["--flink-config", f"{key}={value}"]

    assert main(args) == 0

    out, err = capsys.readouterr()
    for value in SECRETS.values():
        assert value not in out and value not in err
    deployment, secret = yaml.safe_load_all(out)
    assert secret["kind"] == "Secret" and secret["metadata"]["ownerReferences"][0]["kind"] == "FlinkDeployment"
    assert "not shown: fs.s3a.access.key, s3.secret-key" in secret["stringData"]["flink-properties"]
    [main_container] = deployment["spec"]["podTemplate"]["spec"]["containers"]
    assert main_container["env"] == [
        {
            "name": "FLINK_PROPERTIES",
            "valueFrom": {"secretKeyRef": {"name": secret["metadata"]["name"], "key": "flink-properties"}},
        }
    ]


def test_session_mode_refuses_secret_keys_naming_them() -> None:
    options = validate_target_options("kubernetes", {"mode": "session", "session_deployment": "shared"})
    with pytest.raises(ManifestError, match=r"\['s3.secret-key'\] are secret.*session cluster"):
        render(make_request(slow_sql(5), "k8s-session-secret", **{"s3.secret-key": "x"}), options)  # type: ignore[arg-type]
