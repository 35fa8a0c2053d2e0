"""Apache Celeborn (master, worker, Flink client) built from its sources once, into a cache keyed by the tag.

Why a source build: the Maven Central this project can reach serves no ``org.apache.celeborn`` artifact
(the Flink client, master and worker 0.5.x-0.6.x and their ``maven-metadata.xml`` all answered 404), but
Celeborn's third-party dependencies are there. So the tests that need a real Celeborn build the tag once with
Maven, the way Celeborn's ``build/make-distribution.sh`` does (``package -DskipTests -pl master,worker -am``
plus the Flink client's shaded module), and reuse the result.

Layout of the cache (``$FLINKBATCH_CELEBORN_CACHE``, default ``~/.cache/flinkbatch-celeborn``)::

    repository/                 Maven's local repository for the build
    <tag>/                      the sources of the tag, built in place (``target/`` folders)
    <tag>/.flinkbatch-built     written last: the Maven command and how long it took

The sources come from a git clone of ``$FLINKBATCH_CELEBORN_GIT`` (default: Celeborn's GitHub repository).
A build takes tens of minutes on two cores (measured on the shared 2-core machine, at nice 19: parent, OpenAPI
client, SPI, common, client and service took 33 minutes before the master module), so it is not part of
``scripts/test.sh``: run ``python -m airflow_provider_flinkbatch.local.celeborn_build`` once; the Celeborn tests
skip until then. Status: no build has completed yet (see docs/formats.md, "Celeborn").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_flinkbatch.errors import FlinkBatchError

#: The newest released tag, and the newest Flink its client is built for (v0.7.0 has flink-1.18 ... flink-2.3)
CELEBORN_TAG = "v0.7.0"
FLINK_PROFILE = "flink-2.3"
SCALA_BINARY = "2.12"
DEFAULT_GIT = "https://github.com/apache/celeborn.git"
_BUILT = ".flinkbatch-built"
_MAVEN_FLAGS = (
    "-DskipTests",
    "-Dmaven.javadoc.skip=true",
    "-Dmaven.source.skip",
    "-Drat.skip",
    "-Dcheckstyle.skip",
    "-Dspotless.check.skip",
    "-Dscalastyle.skip",
    # Celeborn asks for silencer-plugin_2.12.18:1.7.19; the Maven Central reachable here lists only up to
    # 1.7.17 for Scala 2.12.18 (the plugin only filters compiler warnings)
    "-Dmaven.plugin.silencer.version=1.7.17",
    # Celeborn 0.7.0 pins Ratis 3.2.2; the Maven Central reachable here has ratis-netty and ratis-shell only up
    # to 3.2.1 (the other ratis-* modules have 3.2.2). Not yet tried in a build: the last one stopped there.
    "-Dratis.version=3.2.1",
)


class CelebornBuildError(FlinkBatchError, RuntimeError):
    """Celeborn could not be fetched or built; the message names the command and its log."""


@dataclass(frozen=True)
class CelebornBuild:
    """The jars of one built tag: what the master and worker run, and the shaded Flink client."""

    tag: str
    home: Path

    @property
    def version(self) -> str:
        return self.tag.removeprefix("v")

    def _module_jars(self, module: str) -> list[Path]:
        target = self.home / module / "target"
        own = target / f"celeborn-{module}_{SCALA_BINARY}-{self.version}.jar"
        return [own, *sorted((target / f"scala-{SCALA_BINARY}" / "jars").glob("*.jar"))]

    @property
    def master_classpath(self) -> list[Path]:
        return self._module_jars("master")

    @property
    def worker_classpath(self) -> list[Path]:
        return self._module_jars("worker")

    @property
    def flink_client_jar(self) -> Path:
        flink = FLINK_PROFILE.removeprefix("flink-")
        name = f"celeborn-client-flink-{flink}-shaded_{SCALA_BINARY}-{self.version}.jar"
        return self.home / "client-flink" / f"{FLINK_PROFILE}-shaded" / "target" / name

    def missing(self) -> list[Path]:
        wanted = [self.master_classpath[0], self.worker_classpath[0], self.flink_client_jar]
        return [jar for jar in wanted if not jar.is_file()]


def celeborn_cache_dir() -> Path:
    root = os.environ.get("FLINKBATCH_CELEBORN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "flinkbatch-celeborn"
    )
    return Path(root)


def maven_command(repository: Path) -> list[str]:
    """The build: master, worker and the Flink client's shaded jar, with what they need (``-am``)."""
    modules = f"master,worker,:celeborn-client-flink-{FLINK_PROFILE.removeprefix('flink-')}-shaded_{SCALA_BINARY}"
    return ["mvn", "-B", "package", f"-P{FLINK_PROFILE}", "-pl", modules, "-am", *_MAVEN_FLAGS,
            f"-Dmaven.repo.local={repository}"]  # fmt: skip


def find_build(tag: str = CELEBORN_TAG) -> CelebornBuild | None:
    """The cached build of ``tag``, or None when it was never built (or not completely)."""
    build = CelebornBuild(tag, celeborn_cache_dir() / tag)
    if not (build.home / _BUILT).is_file() or build.missing():
        return None
    return build


def _clone(tag: str, home: Path, git: str) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{tag}-", dir=home.parent))
    argv = ["git", "clone", "--quiet", "--depth", "1", "--branch", tag, git, str(staging / "src")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise CelebornBuildError(
            f"could not clone Celeborn {tag} from {git} (exit {result.returncode}): {result.stderr.strip()[-800:]}; "
            "point FLINKBATCH_CELEBORN_GIT at a reachable clone of apache/celeborn"
        )
    os.replace(staging / "src", home)
    shutil.rmtree(staging, ignore_errors=True)


def build(tag: str = CELEBORN_TAG, git: str | None = None, timeout: float = 3600.0) -> CelebornBuild:
    """Clone (unless the sources are there) and build ``tag``: tens of minutes the first time, then cached."""
    found = find_build(tag)
    if found is not None:
        return found
    if shutil.which("mvn") is None or shutil.which("git") is None:
        raise CelebornBuildError("building Celeborn needs git and Maven 3.8+ (Debian: apt-get install git maven)")
    cache = celeborn_cache_dir()
    home = cache / tag
    cache.mkdir(parents=True, exist_ok=True)
    if not (home / "pom.xml").is_file():
        _clone(tag, home, git or os.environ.get("FLINKBATCH_CELEBORN_GIT") or DEFAULT_GIT)
    argv = ["nice", "-n", "19", *maven_command(cache / "repository")]
    log = cache / f"{tag}-build.log"
    started = time.monotonic()
    try:
        with log.open("w") as out:
            result = subprocess.run(argv, cwd=home, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as err:
        raise CelebornBuildError(f"the Celeborn {tag} build did not finish within {timeout:.0f}s (log: {log})") from err
    seconds = time.monotonic() - started
    errors = [line for line in log.read_text(errors="replace").splitlines() if line.startswith("[ERROR]")]
    built = CelebornBuild(tag, home)
    if result.returncode != 0 or built.missing():
        raise CelebornBuildError(
            f"the Celeborn {tag} build failed (exit {result.returncode}, log: {log}): "
            + ("\n".join(errors[:3]) or f"missing {[str(jar) for jar in built.missing()]}")
        )
    (home / _BUILT).write_text(json.dumps({"command": argv, "seconds": round(seconds)}) + "\n")
    return built


def main() -> int:
    """Build the pinned tag once, printing where its jars are."""
    try:
        built = build()
    except CelebornBuildError as err:
        print(f"flinkbatch: {err}", file=sys.stderr)
        return 1
    print(f"Celeborn {built.tag}: master, worker and {built.flink_client_jar.name} in {built.home}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
