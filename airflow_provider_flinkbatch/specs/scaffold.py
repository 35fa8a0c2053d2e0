"""``flinkbatch new <name>``: a spec, its SQL and a test fixture that pass ``validate`` and ``test`` as created.

The scaffold is a working job (a filesystem source and sink) rather than a page of TODOs: a new job
starts green and each edit can be checked with ``flinkbatch test`` right away.
"""

from __future__ import annotations

import re
from pathlib import Path

from airflow_provider_flinkbatch.specs.model import _check_id

SPEC = """\
# Job spec: see docs/specs.md. Fields not set here come from defaults.yaml files in this folder and above.
name: {name}
description: TODO say what {name} produces and for whom
owner: TODO-team
sql: sql/{name}.sql
schedule: "@daily"
start_date: 2026-01-01
params:
  base_path: /tmp/flinkbatch/{name}
sources: [{table}_input]
sinks: [{table}_output]
tests:
  - name: counts_per_item
    inputs:
      {table}_input: fixtures/{name}/input.csv
    expected:
      {table}_output:
        - {{dt: "2026-01-01", item: a, events: 2}}
        - {{dt: "2026-01-01", item: b, events: 1}}
"""

SQL = """\
-- {name}: one day of input -> events per item. Tables are replaced by local files in `flinkbatch test`.
CREATE TEMPORARY TABLE {table}_input (
    item     STRING,
    quantity BIGINT
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{{{ params.base_path }}}}/input/{{{{ ds }}}}',
    'format'    = 'json'
);

CREATE TEMPORARY TABLE {table}_output (
    dt     STRING,
    item   STRING,
    events BIGINT
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{{{ params.base_path }}}}/output/{{{{ ds }}}}',
    'format'    = 'csv'
);

INSERT OVERWRITE {table}_output
SELECT '{{{{ ds }}}}', item, COUNT(*)
FROM {table}_input
GROUP BY item;
"""

FIXTURE = "item,quantity\na,1\na,2\nb,3\n"


def scaffold(name: str, folder: Path, *, force: bool = False) -> list[Path]:
    """Write ``<name>.yaml``, ``sql/<name>.sql`` and ``fixtures/<name>/input.csv`` under ``folder``."""
    _check_id(name, "job name")
    table = re.sub(r"[^A-Za-z0-9_]", "_", name)  # job names may hold '-' and '.', SQL identifiers not
    files = {
        folder / f"{name}.yaml": SPEC.format(name=name, table=table),
        folder / "sql" / f"{name}.sql": SQL.format(name=name, table=table),
        folder / "fixtures" / name / "input.csv": FIXTURE,
    }
    existing = [path for path in files if path.exists()]
    if existing and not force:
        raise ValueError(f"{', '.join(map(str, existing))} already exist(s); pick another name or pass --force")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)
