"""Jars from Maven Central (connectors, formats, a Kafka broker), resolved once into a local cache.

Why Maven and a pom in the package: the coordinates live in one reviewed file per set
(``local/maven/*.pom.xml``), Maven resolves and checks them as it would for any Java build, and the
cache is keyed by the pom's content, so changing a version resolves again instead of mixing versions.

Layout of the cache (``$FLINKBATCH_JAR_CACHE``, default ``~/.cache/flinkbatch-maven``)::

    repository/                 Maven's local repository (downloads, shared by all sets)
    <set>-<pom hash>/*.jar      the jars of one set, copied there by dependency:copy-dependencies

``scripts/test.sh`` fills it once (``python -m airflow_provider_flinkbatch.local.jars``); later runs find it.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.sql.factories import KNOWN_JARS

_POMS = Path(__file__).with_name("maven")
#: Jar sets: name -> (pom file, copy transitive dependencies too?)
JAR_SETS: dict[str, tuple[str, bool]] = {
    "connectors": ("connectors.pom.xml", False),  # self-contained flink-sql-* jars
    "kafka-broker": ("kafka-broker.pom.xml", True),  # kafka_2.13 and everything it needs at run time
}
_COMPLETE = ".complete"


class JarResolutionError(FlinkBatchError, RuntimeError):
    """Maven could not resolve a jar set; the message names the pom, the log and what to do."""


def jar_cache_dir() -> Path:
    root = os.environ.get("FLINKBATCH_JAR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "flinkbatch-maven"
    )
    return Path(root)


def _set_dir(name: str) -> Path:
    pom, _ = JAR_SETS[name]
    digest = hashlib.sha256((_POMS / pom).read_bytes()).hexdigest()[:12]
    return jar_cache_dir() / f"{name}-{digest}"


def resolve_set(name: str, timeout: float = 900.0) -> list[Path]:
    """The jars of one set, running Maven the first time (a few seconds to minutes, once)."""
    folder = _set_dir(name)
    if not (folder / _COMPLETE).exists():
        _run_maven(name, folder, timeout)
    return sorted(folder.glob("*.jar"))


def _run_maven(name: str, folder: Path, timeout: float) -> None:
    pom, transitive = JAR_SETS[name]
    mvn = shutil.which("mvn")
    if mvn is None:
        raise JarResolutionError(
            f"mvn not found: the {name} jars are resolved from Maven Central with Maven 3.8+ "
            "(Debian: `apt-get install maven`); or fill the cache elsewhere and point FLINKBATCH_JAR_CACHE at it"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder.parent))
    log = folder.parent / f"{name}-maven.log"
    argv = [
        mvn,
        "-B",
        "-q",
        f"-Dmaven.repo.local={jar_cache_dir() / 'repository'}",
        "-f",
        str(_POMS / pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}",
        "-DincludeScope=runtime",
        f"-DexcludeTransitive={'false' if transitive else 'true'}",
    ]
    try:
        with log.open("w") as out:
            result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise JarResolutionError(f"Maven did not resolve {pom} within {timeout:.0f}s (log: {log})") from err
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-8:])
        raise JarResolutionError(
            f"Maven could not resolve {_POMS / pom} (exit {result.returncode}; log: {log}); Maven Central must be "
            f"reachable once to fill {jar_cache_dir()}:\n{tail}"
        )
    staging.chmod(0o755)
    (staging / _COMPLETE).write_text(" ".join(argv) + "\n")
    if folder.exists():  # another process finished first: keep its copy
        shutil.rmtree(staging, ignore_errors=True)
        return
    os.replace(staging, folder)


def connector_jars(names: list[str] | None = None) -> list[Path]:
    """The jars for these known names (``parquet``, ``avro``, ``kafka``; all when None)."""
    wanted = list(KNOWN_JARS) if names is None else names
    unknown = [name for name in wanted if name not in KNOWN_JARS]
    if unknown:
        raise ValueError(f"unknown connector/format jar(s) {unknown}; known: {', '.join(KNOWN_JARS)}")
    artifacts = {artifact for name in wanted for artifact in (KNOWN_JARS[name].artifact_id, *KNOWN_JARS[name].needs)}
    jars = resolve_set("connectors")
    found = [jar for jar in jars if _artifact(jar.name) in artifacts]
    if len(found) != len(artifacts):
        raise JarResolutionError(
            f"{_set_dir('connectors')} lacks some of {sorted(artifacts)}: delete that folder to resolve again"
        )
    return found


def _artifact(jar_name: str) -> str:
    """``flink-sql-parquet-2.3.0.jar`` -> ``flink-sql-parquet`` (the version starts at the first ``-<digit>``)."""
    return re.split(r"-\d", jar_name, maxsplit=1)[0]


def main() -> int:
    """Fill the cache (``scripts/test.sh``): every set, printing where the jars are."""
    try:
        for name in JAR_SETS:
            jars = resolve_set(name)
            print(f"{name}: {len(jars)} jars in {_set_dir(name)}")
    except JarResolutionError as err:
        print(f"flinkbatch: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
