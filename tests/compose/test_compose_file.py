"""``docker-compose.yaml`` can't run here (no Docker engine), so check what would break it on a user's machine.

It must be a valid Compose file (the Compose Specification's JSON schema), the Airflow connection must name
services, ports and volumes that exist, and its Flink settings must be the local cluster's (one source:
``airflow_provider_flinkbatch/local/config.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import pytest
import yaml

from airflow_provider_flinkbatch.local.config import compose_flink_config, render_flink_properties
from airflow_provider_flinkbatch.presets import apply_presets

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
SCHEMA = Path(__file__).with_name("compose-spec.schema.json")
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
FLINK_SERVICES = ("jobmanager", "taskmanager", "historyserver")
_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ``${VAR:-default}`` / ``$$`` interpolation over the whole document (as ``docker compose config``)."""
    if isinstance(value, str):
        text = _VARIABLE.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)
        return text.replace("$$", "$")
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    return value


def load(env: dict[str, str] | None = None) -> dict[str, Any]:
    return dict(interpolate(yaml.safe_load(COMPOSE.read_text()), env or {}))


def flink_properties(service: dict[str, Any]) -> dict[str, str]:
    lines = service["environment"]["FLINK_PROPERTIES"].strip().splitlines()
    return dict(line.split(": ", 1) for line in lines)


def connection(compose: dict[str, Any], service: str = "airflow-scheduler") -> dict[str, Any]:
    return dict(json.loads(compose["services"][service]["environment"]["AIRFLOW_CONN_FLINK_BATCH_DEFAULT"]))


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source (named volume or host path) of a service's short-syntax volumes."""
    result = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        result[target] = source
    return result


def test_is_a_valid_compose_file() -> None:
    schema = json.loads(SCHEMA.read_text())
    raw = yaml.safe_load(COMPOSE.read_text())
    errors = sorted(jsonschema.Draft201909Validator(schema).iter_errors(raw), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_rejects_what_compose_would_reject() -> None:
    """The schema check is not vacuous: a misspelt key fails it."""
    schema = json.loads(SCHEMA.read_text())
    raw = yaml.safe_load(COMPOSE.read_text())
    raw["services"]["jobmanager"]["healthchek"] = raw["services"]["jobmanager"].pop("healthcheck")
    assert any("healthchek" in e.message for e in jsonschema.Draft201909Validator(schema).iter_errors(raw))


def test_services_profiles_and_health_checks() -> None:
    services = load()["services"]
    for name in (*AIRFLOW_SERVICES, "postgres", "jobmanager", "historyserver", "celeborn-master", "minio"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    for name in (*AIRFLOW_SERVICES, "airflow-init", "postgres", *FLINK_SERVICES):
        assert "profiles" not in services[name], f"{name} must start by default"
    assert services["celeborn-master"]["profiles"] == services["celeborn-worker"]["profiles"] == ["celeborn"]
    assert services["minio"]["profiles"] == services["minio-init"]["profiles"] == ["minio"]
    declared = set(load()["volumes"])
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for source in mounts(service).values():
            assert source.startswith(".") or source in declared, f"{name} mounts undeclared volume {source}"
    # Airflow (uid 50000) and Flink (uid 9999) both write the shared volumes: opened up before either starts.
    for name, service in services.items():
        if name != "flink-volumes-init" and {"flink-archive", "flink-data"} & set(mounts(service).values()):
            condition = service.get("depends_on", {}).get("flink-volumes-init", {}).get("condition")
            assert condition == "service_completed_successfully", f"{name} may start before the volumes are writable"
    # The provider is installed from this repository into the Airflow image.
    build = services["airflow-scheduler"]["build"]
    assert (ROOT / build["context"] / build["dockerfile"]).is_file()
    assert services["airflow-scheduler"]["image"].startswith("airflow-provider-flinkbatch")


def test_flink_config_is_the_local_clusters() -> None:
    compose = load()
    expected = compose_flink_config()
    for name in FLINK_SERVICES:
        assert flink_properties(compose["services"][name]) == expected, (
            f"{name}'s FLINK_PROPERTIES differ from compose_flink_config(); it should read:\n"
            + render_flink_properties(expected)
        )
    # S3 archives through the minio profile: one variable moves every reader and writer of the archive.
    s3 = load({"FLINK_ARCHIVE_DIR": "s3://flink-archive/completed-jobs"})
    props = flink_properties(s3["services"]["historyserver"])
    assert (
        props["jobmanager.archive.fs.dir"]
        == props["historyserver.archive.fs.dir"]
        == connection(s3)["extra"]["archive_dir"]
        == "s3://flink-archive/completed-jobs"
    )
    assert urlparse(props["s3.endpoint"]).hostname in s3["services"]


def test_connection_points_at_the_compose_services() -> None:
    compose = load()
    services = compose["services"]
    props = flink_properties(services["jobmanager"])
    conns = {json.dumps(connection(compose, name), sort_keys=True) for name in AIRFLOW_SERVICES}
    assert len(conns) == 1, "every Airflow component must see the same connection"
    conn = connection(compose)
    assert conn["conn_type"] == "flink_batch"

    rest = urlparse(conn["host"])
    assert rest.hostname == props["rest.address"] == "jobmanager" and str(rest.port) == props["rest.port"]
    history = urlparse(conn["extra"]["history_server_url"])
    assert history.hostname in services and str(history.port) == props["historyserver.web.port"]
    assert f"{history.port}:{history.port}" in services[history.hostname]["ports"]
    ui = urlparse(conn["extra"]["web_ui_url"])  # what the user's browser opens: a published port
    assert ui.hostname == "localhost" and f"{ui.port}:{props['rest.port']}" in services["jobmanager"]["ports"]

    # Diagnosis reads raw archives where the JobManager writes them: the same volume at the same path.
    archive = urlparse(conn["extra"]["archive_dir"]).path
    assert conn["extra"]["archive_dir"] == props["jobmanager.archive.fs.dir"]
    volumes = {mounts(services[name]).get(archive) for name in (*AIRFLOW_SERVICES, "jobmanager", "historyserver")}
    assert volumes == {"flink-archive"}

    # The example DAG writes its input where the TaskManager reads it.
    data_dir = services["airflow-scheduler"]["environment"]["FLINKBATCH_EXAMPLE_DATA_DIR"]
    shared = {mounts(services[name]).get("/data") for name in ("airflow-scheduler", "taskmanager")}
    assert data_dir.startswith("/data/") and shared == {"flink-data"}

    # The execution API URL names the API server service.
    execution = urlparse(services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert (
        execution.hostname == "airflow-apiserver"
        and f"{execution.port}:{execution.port}" in services["airflow-apiserver"]["ports"]
    )


def test_example_dags_are_mounted_and_use_the_precreated_connection() -> None:
    services = load()["services"]
    for name in AIRFLOW_SERVICES:
        dags_folder = services[name]["environment"]["AIRFLOW__CORE__DAGS_FOLDER"]
        assert mounts(services[name])[dags_folder] == "./example_dags"
    example = (ROOT / "example_dags" / "flink_batch_sql_local.py").read_text()
    assert 'flink_conn_id="flink_batch_default"' in example
    assert "AIRFLOW_CONN_FLINK_BATCH_DEFAULT" in services["airflow-scheduler"]["environment"]


def test_celeborn_profile_endpoint_satisfies_the_celeborn_preset() -> None:
    services = load()["services"]
    master = services["celeborn-master"]["environment"]
    endpoint = f"{master['CELEBORN_MASTER_HOST']}:{master['CELEBORN_MASTER_PORT']}"
    assert f"celeborn://{endpoint}" in services["celeborn-worker"]["command"]
    apply_presets(["celeborn"], {"celeborn.master.endpoints": endpoint})  # raises if the preset rejects it
    with pytest.raises(ValueError, match="celeborn"):
        apply_presets(["celeborn"], {})
