"""The package registers as an Airflow provider, valid against Airflow's own provider-info schema."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

import airflow
import jsonschema

from airflow_provider_flinkbatch.get_provider_info import get_provider_info
from airflow_provider_flinkbatch.rest.settings import CONNECTION_EXTRA_KEYS
from airflow_provider_flinkbatch.session.hook import FlinkRestHook
from airflow_provider_flinkbatch.yarn.hook import FlinkYarnHook


def test_valid_against_the_schema_shipped_with_airflow() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_entry_point_is_what_airflow_discovers() -> None:
    [ep] = [
        ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("airflow_provider_flinkbatch")
    ]
    assert ep.load()() == get_provider_info()


def test_every_listed_class_and_module_imports() -> None:
    from airflow._shared.module_loading import import_string

    info = get_provider_info()
    for section in ("operators", "sensors", "hooks", "triggers"):
        for item in info[section]:
            for module in item["python-modules"]:
                __import__(module)
    for link in info["extra-links"]:
        assert import_string(link)().name in ("Flink Job", "Flink HistoryServer", "YARN Application")
    conn, yarn = info["connection-types"]
    assert import_string(conn["hook-class-name"]) is FlinkRestHook
    assert conn["connection-type"] == FlinkRestHook.conn_type
    assert import_string(yarn["hook-class-name"]) is FlinkYarnHook
    assert yarn["connection-type"] == FlinkYarnHook.conn_type


def test_providers_manager_builds_the_connection_form() -> None:
    """What the Airflow UI renders for 'Flink Batch': extra fields, hidden fields, secrets masked."""
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-flinkbatch" in manager.providers
    hook_info = manager.hooks["flink_batch"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "airflow_provider_flinkbatch.session.hook.FlinkRestHook"
    widgets = {
        name: w for name, w in manager.connection_form_widgets.items() if name.startswith("extra__flink_batch__")
    }
    # every form field is one the connection parser accepts, and every accepted extra has a field
    assert set(widgets) == {f"extra__flink_batch__{field}" for field in CONNECTION_EXTRA_KEYS}
    assert widgets["extra__flink_batch__bearer_token"].is_sensitive
    assert not widgets["extra__flink_batch__history_server_url"].is_sensitive
    behaviour = manager.field_behaviours["flink_batch"]
    assert {"schema", "port", "extra"} <= set(behaviour["hidden_fields"])
    assert behaviour["relabeling"]["host"] == "Flink REST URL"


def test_yarn_connection_form_fields_are_extras_the_parser_accepts() -> None:
    """Every 'Flink on YARN' form field is read by the connection parser (no field silently ignored)."""
    from airflow.providers_manager import ProvidersManager

    from airflow_provider_flinkbatch.yarn.settings import YARN_EXTRA_KEYS

    manager = ProvidersManager()
    assert manager.hooks["flink_yarn"] is not None
    prefix = "extra__flink_yarn__"
    fields = {name.removeprefix(prefix) for name in manager.connection_form_widgets if name.startswith(prefix)}
    assert fields and fields <= YARN_EXTRA_KEYS
    assert manager.field_behaviours["flink_yarn"]["relabeling"]["host"] == "ResourceManager URL(s)"
