"""The Hadoop jars of the local YARN cluster, resolved once from Maven Central into a cache.

``local/yarn/pom.xml`` names them: ``hadoop-client-minicluster`` (MiniYARNCluster) and the shaded
``hadoop-client-api``/``hadoop-client-runtime`` that the Flink CLI (``HADOOP_CLASSPATH``) and the
YARN containers (``yarn.application.classpath``) use. Maven copies them into
``~/.cache/flinkbatch-hadoop/<version>/lib`` with a private local repository beside it, so nothing
else on the machine changes; ``scripts/test.sh`` fills the cache before the tests. The launcher
(``FlinkBatchMiniYarn.java``) is compiled with ``javac`` against those jars, like the SQL runner.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_flinkbatch.errors import FlinkBatchError

_HERE = Path(__file__).with_name("yarn")
POM = _HERE / "pom.xml"
LAUNCHER_SOURCE = _HERE / "FlinkBatchMiniYarn.java"
LAUNCHER_CLASS = "FlinkBatchMiniYarn"
HADOOP_VERSION = re.search(r"<hadoop.version>([^<]+)</hadoop.version>", POM.read_text()).group(1)  # type: ignore[union-attr]
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)
#: Jars only the MiniYARNCluster JVM needs (the mini cluster, the JUnit it calls into, its proxy CA's crypto).
_CLUSTER_ONLY = ("hadoop-client-minicluster", "junit-", "opentest4j", "apiguardian", "bcp", "bcutil")


class HadoopJarsError(FlinkBatchError, RuntimeError):
    """The Hadoop jars could not be resolved or the launcher not compiled; the message names the log."""


def hadoop_cache_dir() -> Path:
    """``$FLINKBATCH_HADOOP_CACHE`` or ``~/.cache/flinkbatch-hadoop/<version>``: shared by every checkout."""
    override = os.environ.get("FLINKBATCH_HADOOP_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "flinkbatch-hadoop" / HADOOP_VERSION


@dataclass(frozen=True)
class HadoopJars:
    """The resolved jars: everything MiniYARNCluster needs, and the client subset."""

    lib_dir: Path
    launcher_jar: Path

    @property
    def all_jars(self) -> list[Path]:
        return sorted(self.lib_dir.glob("*.jar"))

    @property
    def client_jars(self) -> list[Path]:
        """The shaded Hadoop client and its few unshaded dependencies (no minicluster, no test classes)."""
        return [jar for jar in self.all_jars if not jar.name.startswith(_CLUSTER_ONLY)]

    def client_classpath(self) -> str:
        """``HADOOP_CLASSPATH`` for the Flink CLI and ``yarn.application.classpath`` for the containers."""
        return os.pathsep.join(str(jar) for jar in self.client_jars)


def _pom_digest() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _resolved(lib_dir: Path) -> bool:
    """Resolved from this very pom (a changed pom resolves again)."""
    stamp = lib_dir / ".pom-sha256"
    return stamp.is_file() and stamp.read_text().strip() == _pom_digest()


def resolve_hadoop_jars(cache: Path | None = None) -> Path:
    """Run Maven once (``dependency:copy-dependencies``); later calls only check the directory."""
    cache = cache or hadoop_cache_dir()
    lib_dir = cache / "lib"
    if _resolved(lib_dir):
        return lib_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise HadoopJarsError(
            "mvn not found: the local YARN cluster resolves Hadoop's jars from Maven Central once "
            "(Debian: `apt-get install maven`), or set FLINKBATCH_HADOOP_CACHE to a directory whose lib/ has them"
        )
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / "lib.partial"
    shutil.rmtree(partial, ignore_errors=True)
    log = cache / "maven.log"
    with open(log, "wb") as out:
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "-f",
                str(POM),
                f"-Dmaven.repo.local={cache / 'm2'}",
                "dependency:copy-dependencies",
                f"-DoutputDirectory={partial}",
                "-DincludeScope=runtime",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cache,
            check=False,
        )
    names = [jar.name for jar in partial.glob("*.jar")]
    missing = [
        artifact
        for artifact in ("hadoop-client-minicluster", "hadoop-client-api", "hadoop-client-runtime")
        if not any(name.startswith(f"{artifact}-{HADOOP_VERSION}") for name in names)
    ]
    if result.returncode != 0 or missing:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise HadoopJarsError(f"Maven could not resolve the Hadoop {HADOOP_VERSION} jars (log: {log}):\n{tail}")
    (partial / ".pom-sha256").write_text(_pom_digest())
    shutil.rmtree(lib_dir, ignore_errors=True)
    os.replace(partial, lib_dir)
    return lib_dir


def ensure_hadoop_jars(cache: Path | None = None) -> HadoopJars:
    """The cached jars plus the compiled launcher (built once per launcher source)."""
    cache = cache or hadoop_cache_dir()
    lib_dir = resolve_hadoop_jars(cache)
    key = hashlib.sha256(LAUNCHER_SOURCE.read_bytes()).hexdigest()[:16]
    jar = cache / "launcher" / key / "flinkbatch-mini-yarn.jar"
    if not jar.exists():
        _compile_launcher(lib_dir, jar)
    return HadoopJars(lib_dir=lib_dir, launcher_jar=jar)


def _compile_launcher(lib_dir: Path, jar_path: Path) -> None:
    javac = shutil.which("javac")
    if javac is None:
        raise HadoopJarsError("javac not found: the MiniYARNCluster launcher is compiled with a JDK 17")
    jar_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar_path.parent) as tmp:
        classes = Path(tmp) / "classes"
        result = subprocess.run(
            [javac, "--release", "17", "-nowarn", "-cp", str(lib_dir / "*"), "-d", str(classes), str(LAUNCHER_SOURCE)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise HadoopJarsError(f"javac failed for {LAUNCHER_SOURCE}:\n{result.stderr.strip()}")
        partial = Path(tmp) / "launcher.jar"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
            for class_file in sorted(classes.rglob("*.class")):
                jar.writestr(
                    zipfile.ZipInfo(class_file.relative_to(classes).as_posix(), _ZIP_TIME), class_file.read_bytes()
                )
        os.replace(partial, jar_path)


def main() -> int:
    """``python -m airflow_provider_flinkbatch.local.yarn_jars``: fill the cache (scripts/test.sh runs it)."""
    try:
        jars = ensure_hadoop_jars()
    except HadoopJarsError as err:
        print(f"flinkbatch: {err}", file=sys.stderr)
        return 1
    print(jars.lib_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
