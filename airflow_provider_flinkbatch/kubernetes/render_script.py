"""What ``flinkbatch render --target kubernetes <script.sql>`` prints: a task's resources, as YAML.

The same request the operator builds (identity, fingerprint, config), rendered by
:func:`~airflow_provider_flinkbatch.kubernetes.manifests.render` and checked against the operator's CRD
schemas. :mod:`.render_cli` (the parser, loaded for every ``flinkbatch`` call) imports this module only
when a script is rendered.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_flinkbatch.config_secrets import split_secret_config
from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint, normalize_flink_config
from airflow_provider_flinkbatch.kubernetes.manifests import render
from airflow_provider_flinkbatch.kubernetes.schema import validate_resource
from airflow_provider_flinkbatch.specs.files import load_yaml_text
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest
from airflow_provider_flinkbatch.targets.registry import validate_target_options

OWNER_UID_PLACEHOLDER = "<uid of the {kind} {name}, set when it is created>"


def _options(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        path = Path(text[1:])
        content = path.read_text()
        loaded = load_yaml_text(content) if path.suffix in (".yaml", ".yml") else json.loads(content)
    else:
        loaded = json.loads(text)
    if not isinstance(loaded, dict):
        raise ValueError(f"--target-options must be a JSON/YAML object, got {type(loaded).__name__}")
    return loaded


def _flink_config(pairs: list[str]) -> dict[str, str]:
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--flink-config {pair!r}: write KEY=VALUE")
        config[key.strip()] = value.strip()
    return config


def _literal_dumper() -> Any:
    """A safe YAML dumper writing multi-line strings (the ConfigMap's statements) as ``|`` blocks."""

    class LiteralDumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    LiteralDumper.add_representer(str, represent_str)
    return LiteralDumper


def render_command(args: argparse.Namespace) -> int:
    """Print the resources a task with this script and these ``target_options`` would apply (YAML)."""
    sql = sys.stdin.read() if args.sql == "-" else Path(args.sql).read_text()
    task_id = args.task_id or (Path(args.sql).stem if args.sql != "-" else "task")
    job_name = args.job_name or f"{args.dag_id}.{task_id}"
    options = validate_target_options(args.target, _options(args.target_options))
    statements = split_statements(sql)
    flink_config = normalize_flink_config(_flink_config(args.flink_config))
    identity = JobIdentity(
        dag_id=args.dag_id,
        task_id=task_id,
        run_id=args.run_id,
        map_index=args.map_index,
        # the same fingerprint the operator computes (SQL + config + job name)
        fingerprint=fingerprint(statements, {**flink_config, "pipeline.name": job_name}),
    )
    request = JobRequest(
        statements=statements, flink_config=flink_config, job_name=job_name, identity=identity, attempt=args.attempt
    )
    manifests = render(request, options, archive_dir=args.archive_dir)  # type: ignore[arg-type]
    documents = [manifests.custom_resource]
    for owned in manifests.owned_by(OWNER_UID_PLACEHOLDER.format(kind=manifests.kind, name=manifests.name)):
        if owned["kind"] == "Secret":  # shown without its values: they are secrets
            keys = sorted(split_secret_config(request.flink_config or {})[1])
            owned["stringData"] = {
                key: f"<{len(keys)} secret flink_config value(s), not shown: {', '.join(keys)}>"
                for key in owned["stringData"]
            }
        documents.append(owned)
    if not args.no_validate:
        validate_resource(manifests.custom_resource)
        print(f"# {manifests.kind} {manifests.ref}: valid against the operator's CRD schema", file=sys.stderr)
    sys.stdout.write(yaml.dump_all(documents, Dumper=_literal_dumper(), sort_keys=False, width=120))
    return 0
