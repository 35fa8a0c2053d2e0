"""The CLI renders a spec's SQL in Airflow's sandboxed Jinja environment, as a DAG run does."""

from __future__ import annotations

from pathlib import Path

import pytest
from spec_helpers import write_tree

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.specs.load import load_specs
from airflow_provider_flinkbatch.specs.validate import validate_specs

#: Reaches Python internals through a string: a plain Jinja environment prints the number of classes.
ESCAPE = "INSERT INTO t SELECT '{{ ''.__class__.__mro__[1].__subclasses__() | length }}';\n"
REFUSED = (
    "sql: template does not render: refused by Airflow's template sandbox: "
    "access to attribute '__class__' of 'str' object is unsafe."
)


def _specs(root: Path) -> Path:
    write_tree(
        root,
        {
            "jobs/escape.yaml": "sql: escape.sql\nstart_date: 2026-03-01\n",
            "jobs/escape.sql": ESCAPE,
            "jobs/airflow_filters.yaml": "sql: filters.sql\nstart_date: 2026-03-01\n",
            "jobs/filters.sql": "INSERT INTO t SELECT '{{ data_interval_end | ds_nodash }}', '{{ macros.ds_add(ds, 2) }}';\n",
        },
    )
    return root / "jobs"


def test_render_and_validate_refuse_what_the_sandbox_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _specs(tmp_path)
    assert main(["render", str(folder / "escape.yaml")]) == 1
    assert capsys.readouterr().err.strip() == f"flinkbatch: escape.yaml: {REFUSED}"
    report = validate_specs(load_specs(folder), explain=False, check_connections=False)
    by_name = {spec.name: spec for spec in report.specs}
    assert [str(error) for error in by_name["escape"].errors] == [f"jobs/escape.yaml: {REFUSED}"]
    # what Airflow adds to its environment (its filters) renders in the CLI as in a run
    assert by_name["airflow_filters"].errors == []
    assert main(["render", str(folder / "airflow_filters.yaml")]) == 0
    assert "INSERT INTO t SELECT '20260302', '2026-03-03';" in capsys.readouterr().out


def test_a_dag_run_refuses_the_same_template(
    airflow_db: None, scratch_dags: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.dag_processing.dagbag import DagBag

    folder = _specs(scratch_dags)
    (scratch_dags / "spec_dags.py").write_text(
        f"from airflow_provider_flinkbatch.specs import build_dags\nbuild_dags({str(folder)!r}, globals())\n"
    )
    bag = DagBag(dag_folder=str(scratch_dags), safe_mode=False)
    assert bag.import_errors == {}
    dag_run = bag.get_dag("escape").test()
    assert {ti.task_id: ti.state for ti in dag_run.get_task_instances()} == {"escape": "failed"}
    out, err = capfd.readouterr()
    assert "SecurityError: access to attribute '__class__' of 'str' object is unsafe." in out + err
