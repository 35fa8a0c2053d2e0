"""Helpers for the job-spec tests: write a spec folder, load it, read the messages."""

from __future__ import annotations

import textwrap
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "example_dags"
EXAMPLE_SPECS = EXAMPLES / "specs"

CLICKS_SQL = """\
CREATE TEMPORARY TABLE clicks_raw (user_id BIGINT, page STRING) WITH (
    'connector' = 'filesystem', 'path' = '{{ params.base }}/clicks/{{ ds }}', 'format' = 'json');
CREATE TEMPORARY TABLE clicks_daily (page STRING, clicks BIGINT) WITH (
    'connector' = 'filesystem', 'path' = '{{ params.base }}/daily/{{ ds }}', 'format' = 'csv');
INSERT OVERWRITE clicks_daily SELECT page, COUNT(*) FROM clicks_raw GROUP BY page;
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root`` (text dedented); returns ``root``."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def spec_folder(tmp_path: Path, specs: dict[str, str], defaults: str | None = None) -> Path:
    """``tmp_path/jobs`` with the given specs, an optional defaults.yaml and sql/clicks.sql."""
    files = {f"jobs/{name}": text for name, text in specs.items()}
    files["jobs/sql/clicks.sql"] = CLICKS_SQL
    if defaults is not None:
        files["jobs/defaults.yaml"] = defaults
    write_tree(tmp_path, files)
    return tmp_path / "jobs"


class RenderingTarget:
    """Stands in for a target kind that renders its submission (as a Kubernetes target renders a manifest)."""

    kind = "rendering"

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id

    def render(self, request: object) -> dict[str, object]:
        return {"kind": "FlinkDeployment", "job": getattr(request, "job_name", None)}


def create_rendering_target(kind: str, flink_conn_id: str, options: object, retry: object) -> RenderingTarget:
    return RenderingTarget(flink_conn_id)
