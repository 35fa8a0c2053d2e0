"""Hostile specs: paths that leave the spec root, YAML that expands without bound (see specs/files.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from spec_helpers import CLICKS_SQL, spec_folder, write_tree

from airflow_provider_flinkbatch.specs.effective import SpecRenderError, sql_text
from airflow_provider_flinkbatch.specs.files import MAX_YAML_VALUES
from airflow_provider_flinkbatch.specs.load import load_specs

LAUGHS = (
    "name: laughs\nsql: sql/clicks.sql\nparams:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(
        f"  {level}: &{level} [{', '.join([f'*{previous}'] * 9)}]\n"
        for previous, level in zip("abcdefgh", "bcdefghi", strict=True)
    )
)
EXPANDS = (
    f"invalid YAML: the document holds more than {MAX_YAML_VALUES} values once its aliases (*name) are expanded; "
    "write the values out or split the spec (a 'billion laughs' document?)"
)


def _errors(folder: Path, root: Path | None = None) -> list[str]:
    return [str(error) for error in load_specs(folder, root=root).errors]


def test_absolute_and_escaping_paths_are_rejected_with_the_root_and_the_fix(tmp_path: Path) -> None:
    outside = tmp_path / "outside.sql"
    outside.write_text(CLICKS_SQL)
    folder = spec_folder(
        tmp_path,
        {
            "absolute.yaml": f"sql: {outside}\nparams: {{base: /tmp/x}}\n",
            "dotdot.yaml": "sql: sql/../../outside.sql\nparams: {base: /tmp/x}\n",
            "fixture.yaml": (
                "sql: sql/clicks.sql\nparams: {base: /tmp/x}\ntests:\n  - name: t\n"
                "    inputs: {clicks_raw: ../../../etc/passwd.csv}\n    expected: {clicks_daily: []}\n"
                "sources: [{table: clicks_raw, avro_schema: /etc/schema.avsc}]\n"
            ),
        },
    )
    fix = f"keep the files a spec uses inside {folder} (or point FLINKBATCH_SPEC_ROOT at a folder that holds them)"
    assert _errors(folder) == [
        f"jobs/absolute.yaml: sql[0]: {outside} is an absolute path; give a path relative to the spec file, {fix}",
        f"jobs/dotdot.yaml: sql[0]: sql/../../outside.sql leaves the spec root {folder}: {fix}",
        f"jobs/fixture.yaml: sources[0].avro_schema: /etc/schema.avsc is an absolute path; give a path relative to the "
        f"spec file, {fix}",
        f"jobs/fixture.yaml: tests[0].inputs.clicks_raw: ../../../etc/passwd.csv leaves the spec root {folder}: {fix}",
    ]


def test_a_symlink_out_of_the_root_is_rejected_and_one_inside_is_followed(tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere" / "secret.sql"
    write_tree(tmp_path, {"elsewhere/secret.sql": "SELECT 'secret';"})
    folder = spec_folder(
        tmp_path,
        {"out.yaml": "sql: sql/link.sql\nparams: {base: /tmp/x}\n", "in.yaml": "sql: sql/same.sql\nparams: {}\n"},
    )
    (folder / "sql" / "link.sql").symlink_to(secret)
    (folder / "sql" / "same.sql").symlink_to(folder / "sql" / "clicks.sql")
    specs = load_specs(folder)
    assert [str(error) for error in specs.errors] == [
        f"jobs/out.yaml: sql[0]: sql/link.sql is a symlink to {secret}, outside the spec root {folder}: keep the files "
        f"a spec uses inside {folder} (or point FLINKBATCH_SPEC_ROOT at a folder that holds them)"
    ]
    assert [spec.name for spec in specs.specs] == ["in"]
    assert "INSERT OVERWRITE clicks_daily" in sql_text(specs.specs[0])
    # the same rule holds where the SQL is read, should a spec object be bound by other means
    out = specs.specs[0].model_copy(update={"sql": ["sql/link.sql"]})
    with pytest.raises(SpecRenderError, match=r"in\.yaml: sql: sql/link\.sql is a symlink to .* outside the spec root"):
        sql_text(out)


def test_a_defaults_file_symlinked_from_outside_is_not_read(tmp_path: Path) -> None:
    write_tree(tmp_path, {"elsewhere/defaults.yaml": "params: {password: hunter2}\n"})
    folder = spec_folder(tmp_path, {"job.yaml": "sql: sql/clicks.sql\nparams: {base: /tmp/x}\n"})
    (folder / "defaults.yaml").symlink_to(tmp_path / "elsewhere" / "defaults.yaml")
    message = _errors(folder)[0]
    assert message.startswith(
        f"jobs/defaults.yaml: defaults.yaml is a symlink to {tmp_path / 'elsewhere'}/defaults.yaml"
    )


def test_an_explicit_root_admits_shared_files_next_to_the_spec_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"shared/clicks.sql": CLICKS_SQL})
    folder = spec_folder(tmp_path, {"job.yaml": "sql: ../shared/clicks.sql\nparams: {base: /tmp/x}\n"})
    assert _errors(folder)[0].startswith("jobs/job.yaml: sql[0]: ../shared/clicks.sql leaves the spec root")
    assert _errors(folder, root=tmp_path) == []
    monkeypatch.setenv("FLINKBATCH_SPEC_ROOT", str(tmp_path))
    assert _errors(folder) == []
    monkeypatch.setenv("FLINKBATCH_SPEC_ROOT", str(tmp_path / "shared"))
    with pytest.raises(ValueError, match=r"the spec folder .*jobs is not inside the configured spec root .*shared"):
        load_specs(folder)


def test_billion_laughs_fails_the_cli_with_the_limit(tmp_path: Path) -> None:
    folder = spec_folder(tmp_path, {"laughs.yaml": LAUGHS})
    # the timeout only guards against a hang (before the limit, validating this never finished)
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_flinkbatch.cli", "validate", str(folder), "--no-connections"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FLINKBATCH_SPEC_CACHE": "off"},
    )
    assert result.returncode == 1, result.stderr
    assert f"jobs/laughs.yaml: {EXPANDS}" in result.stdout + result.stderr


def test_billion_laughs_and_recursive_aliases_become_placeholder_dags_in_the_dag_processor(tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    folder = spec_folder(
        tmp_path,
        {
            "laughs.yaml": LAUGHS,
            "loop.yaml": "name: loop\nsql: sql/clicks.sql\nparams: &p {again: *p}\n",
            "big.yaml": "name: big\nsql: sql/clicks.sql\nparams: {blob: '" + "x" * (1024 * 1024) + "'}\n",
            "fine.yaml": "sql: sql/clicks.sql\nparams: {base: /tmp/x}\n",
        },
    )
    dag_file = tmp_path / "spec_dags.py"
    dag_file.write_text(
        f"from airflow_provider_flinkbatch.specs import build_dags\nbuild_dags({str(folder)!r}, globals())\n"
    )
    bag = DagBag(dag_folder=str(dag_file), safe_mode=False)
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == ["big", "fine", "laughs", "loop"]
    assert bag.dags["laughs"].description == f"BROKEN SPEC: jobs/laughs.yaml: {EXPANDS}"[:200]
    assert bag.dags["loop"].description == (
        "BROKEN SPEC: jobs/loop.yaml: invalid YAML: a recursive alias: an anchored value (&name) contains itself (*name); "
        "remove it"
    )
    assert bag.dags["big"].description == (
        "BROKEN SPEC: jobs/big.yaml: invalid YAML: the file is 1.0 MiB; a spec YAML may be at most 1024 KiB "
        "(keep test rows in .csv/.json fixture files)"
    )


def test_a_cached_spec_replaced_by_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    import shutil

    folder = spec_folder(tmp_path, {"job.yaml": "sql: sql/clicks.sql\nparams: {base: /tmp/x}\n"})
    assert _errors(folder) == []  # parsed and cached
    shutil.copy2(folder / "job.yaml", tmp_path / "job.yaml")  # same content and mtime: the same cache stamp
    (folder / "job.yaml").unlink()
    (folder / "job.yaml").symlink_to(tmp_path / "job.yaml")
    assert _errors(folder)[0].startswith(f"jobs/job.yaml: job.yaml is a symlink to {tmp_path / 'job.yaml'}")
