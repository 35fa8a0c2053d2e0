"""Locate a Flink distribution (its ``lib/`` jars) on this machine.

Two sources, in order: ``FLINK_HOME`` (a regular Flink distribution) and PyPI's
``apache-flink-libraries`` wheel (``pyflink/lib``), installed with the ``[local]`` extra. Both the local
cluster manager and the SQL runner build use this, so they always agree on which Flink they talk to.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_flinkbatch.errors import FlinkBatchError


class FlinkDistributionNotFound(FlinkBatchError, RuntimeError):
    """No Flink jars were found; the message says how to get them."""


@dataclass(frozen=True)
class FlinkDistribution:
    """The jars of one Flink installation."""

    home: Path

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def dist_jar(self) -> Path:
        jars = sorted(self.lib_dir.glob("flink-dist*.jar"))
        if not jars:
            raise FlinkDistributionNotFound(f"{self.lib_dir} has no flink-dist jar")
        return jars[0]

    @property
    def version(self) -> str:
        match = re.search(r"flink-dist[^-]*-(\d+\.\d+(?:\.\d+)?)", self.dist_jar.name)
        return match.group(1) if match else "unknown"

    @property
    def bash_java_utils_jar(self) -> Path:
        for candidate in (self.home / "bin" / "bash-java-utils.jar", self.lib_dir / "bash-java-utils.jar"):
            if candidate.exists():
                return candidate
        raise FlinkDistributionNotFound(f"no bash-java-utils.jar under {self.home}/bin")

    def classpath(self) -> str:
        """All ``lib/*.jar`` sorted, ``flink-dist`` last: the order Flink's own ``bin/config.sh`` uses."""
        jars = sorted(p for p in self.lib_dir.glob("*.jar") if not p.name.startswith("flink-dist"))
        return os.pathsep.join(str(p) for p in [*jars, self.dist_jar])


def find_flink_distribution() -> FlinkDistribution:
    """Return the Flink distribution to use, or explain how to install one."""
    flink_home = os.environ.get("FLINK_HOME")
    if flink_home:
        home = Path(flink_home)
        if not (home / "lib").is_dir():
            raise FlinkDistributionNotFound(
                f"FLINK_HOME={flink_home} has no lib/ directory; point it at an unpacked Flink distribution"
            )
        return FlinkDistribution(home)
    spec = importlib.util.find_spec("pyflink")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "lib").is_dir():
                return FlinkDistribution(Path(location))
    raise FlinkDistributionNotFound(
        "No Flink jars found. Install them with `pip install 'airflow-provider-flinkbatch[local]'` "
        "(PyPI's apache-flink-libraries) or set FLINK_HOME to a Flink distribution."
    )
