"""Apache Airflow provider for Apache Flink batch SQL.

Importing the package must stay cheap: DAG files import operators from here at parse time,
so nothing heavy (HTTP clients, kubernetes, pydantic models of big specs) is imported at this level.
"""

from __future__ import annotations

__version__ = "0.1.0"
