"""``flinkbatch render --target kubernetes <script.sql>``: print the exact resources a task would apply.

Users keep the output next to the DAG and review it in PRs; a changed preset, image or SQL shows up
as a diff (config drift is caught before it runs). The resources are checked against the operator's
CRD schemas unless ``--no-validate``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

OWNER_UID_PLACEHOLDER = "<uid of the {kind} {name}, set when it is created>"


def extend_render_parser(render: argparse.ArgumentParser) -> None:
    """Teach ``flinkbatch render`` (the spec command) to render a plain ``.sql`` script for a target.

    ``flinkbatch render job.sql --target kubernetes --target-options @k8s.yaml`` prints the resources;
    a spec file or folder keeps going to the spec renderer (which asks the target for the same view).
    """
    render.add_argument("--target", choices=["kubernetes"], help="render a .sql script for this target=")
    render.add_argument(
        "--target-options",
        default="{}",
        help="the operator's target_options: JSON text, or @file (.json/.yaml)",
    )
    render.add_argument("--dag-id", default="dag", help="DAG id of the task (part of the name and identity)")
    render.add_argument("--task-id", default=None, help="task id (default: the script's file name)")
    render.add_argument("--run-id", default="manual", help="DAG run id (the identity of one task instance)")
    render.add_argument("--map-index", type=int, default=-1)
    render.add_argument("--attempt", type=int, default=0, help="job attempt (0 = first submission)")
    render.add_argument("--job-name", help="Flink job name (default: <dag_id>.<task_id>)")
    render.add_argument(
        "--flink-config", action="append", default=[], metavar="KEY=VALUE", help="the operator's flink_config"
    )
    render.add_argument("--archive-dir", help="the flink connection's archive_dir (jobmanager.archive.fs.dir)")
    render.add_argument("--no-validate", action="store_true", help="skip the check against the CRD schemas")
    render_spec = render.get_default("func")

    def dispatch(args: argparse.Namespace) -> int:
        script = args.spec == "-" or str(args.spec).endswith(".sql")
        if args.target or script:
            if not args.target:
                raise ValueError("render <script.sql> needs --target kubernetes (a spec file names its own target)")
            args.sql = args.spec
            return render_command(args)
        return int(render_spec(args))

    render.set_defaults(func=dispatch)


def _options(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        path = Path(text[1:])
        content = path.read_text()
        if path.suffix in (".yaml", ".yml"):
            from airflow_provider_flinkbatch.specs.files import load_yaml_text  # yaml only for this option

            loaded = load_yaml_text(content)
        else:
            loaded = json.loads(content)
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
    import yaml

    class LiteralDumper(yaml.SafeDumper):
        pass

    def represent_str(dumper: yaml.SafeDumper, value: str) -> Any:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    LiteralDumper.add_representer(str, represent_str)
    return LiteralDumper


def render_command(args: argparse.Namespace) -> int:
    import yaml

    from airflow_provider_flinkbatch.config_secrets import split_secret_config
    from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint, normalize_flink_config
    from airflow_provider_flinkbatch.kubernetes.manifests import render
    from airflow_provider_flinkbatch.kubernetes.schema import validate_resource
    from airflow_provider_flinkbatch.sql.statements import split_statements
    from airflow_provider_flinkbatch.targets.base import JobRequest
    from airflow_provider_flinkbatch.targets.registry import validate_target_options

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
