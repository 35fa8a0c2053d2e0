"""Validate rendered resources against the Flink Kubernetes Operator's own CRD schemas (bundled copies).

The API server checks the same ``openAPIV3Schema`` but *prunes* unknown fields silently; this check
is strict (an unknown field is an error), so a typo in a pod template or a renamed spec field shows
up in ``flinkbatch render`` and in the tests instead of vanishing at apply time.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

CRD_DIR = Path(__file__).with_name("crds")
_FILES = {"FlinkDeployment": "flinkdeployments", "FlinkSessionJob": "flinksessionjobs"}


class ManifestSchemaError(ValueError):
    """A rendered resource does not match the CRD; the message gives the path and the problem."""


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        open_ended = "additionalProperties" in node or node.get("x-kubernetes-preserve-unknown-fields")
        if node.get("type") == "object" and "properties" in node and not open_ended:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(value) for value in node]
    return node


@cache
def crd_schema(kind: str, version: str = "v1beta1") -> dict[str, Any]:
    """The strict ``openAPIV3Schema`` of ``kind`` (with the object envelope every CRD gets)."""
    if kind not in _FILES:
        raise ManifestSchemaError(f"no CRD bundled for kind {kind!r}; known: {sorted(_FILES)}")
    crd = yaml.safe_load((CRD_DIR / f"{_FILES[kind]}.flink.apache.org-v1.yml").read_text())
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema = _strict(served["schema"]["openAPIV3Schema"])
    schema["properties"].update(
        {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
    )
    return dict(schema)


def validate_resource(resource: dict[str, Any]) -> None:
    """Raise :class:`ManifestSchemaError` if ``resource`` does not match its CRD."""
    api_version = str(resource.get("apiVersion", ""))
    schema = crd_schema(str(resource.get("kind")), api_version.rsplit("/", 1)[-1] or "v1beta1")
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(resource), key=lambda e: list(e.path))
    if errors:
        problems = "; ".join(f"{'.'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:10])
        raise ManifestSchemaError(f"{resource.get('kind')} does not match the operator's CRD: {problems}")
