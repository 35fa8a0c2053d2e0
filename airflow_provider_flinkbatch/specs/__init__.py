"""Job specs: one YAML file + SQL per Flink batch job, turned into DAGs, checked and tested without Python.

Light on purpose (imported by DAG files at parse time): the heavy parts (Flink, fastavro) load lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_flinkbatch.specs.load import SpecSet


def build_dags(*args: Any, **kwargs: Any) -> Any:
    """See :func:`airflow_provider_flinkbatch.specs.factory.build_dags`."""
    # Airflow's DAG machinery loads when a DAG file builds its DAGs, not on `import ...specs`.
    from airflow_provider_flinkbatch.specs.factory import build_dags as build

    return build(*args, **kwargs)


def load_specs(folder: Any, root: Any = None) -> SpecSet:
    """See :func:`airflow_provider_flinkbatch.specs.load.load_specs`."""
    # pydantic models and YAML load when specs are read, not on `import ...specs`.
    from airflow_provider_flinkbatch.specs.load import load_specs as load

    return load(folder, root=root)


__all__ = ["build_dags", "load_specs"]
