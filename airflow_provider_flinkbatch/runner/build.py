"""Build the SQL runner jar with ``javac`` against the Flink jars, cached by content hash.

Maven is not needed: the runner is one class compiled against Flink's own ``lib/`` jars. The jar is
written deterministically (fixed zip timestamps), so the same source and Flink version always give
the same bytes and the same content hash. That hash names the jar, which lets the session target
upload it to a cluster only once.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_flinkbatch.distribution import FlinkDistribution, find_flink_distribution
from airflow_provider_flinkbatch.errors import FlinkBatchError
from airflow_provider_flinkbatch.paths import cache_dir

RUNNER_MAIN_CLASS = "FlinkBatchSqlRunner"
_SOURCE = Path(__file__).with_name("FlinkBatchSqlRunner.java")
_ZIP_TIME = (2024, 1, 1, 0, 0, 0)


class RunnerBuildError(FlinkBatchError, RuntimeError):
    """The runner jar could not be built; the message says why and how to fix it."""


@dataclass(frozen=True)
class RunnerJar:
    """A built runner jar and the hash of its content."""

    path: Path
    sha256: str

    @property
    def upload_name(self) -> str:
        """File name used when uploading to a cluster: reveals the content hash for reuse."""
        return f"flinkbatch-sql-runner-{self.sha256[:16]}.jar"


def runner_program_args(statements: list[str], *, explain: bool = False) -> list[str]:
    """Program arguments for the runner: one base64 argument per statement (no quoting issues)."""
    args: list[str] = []
    for statement in statements:
        args += ["--statement-b64", base64.b64encode(statement.encode("utf-8")).decode("ascii")]
    if explain:
        args.append("--explain")
    return args


def runner_statements_file(statements: list[str]) -> str:
    """The ``--statements-file`` content: one base64 statement per line (e.g. a ConfigMap value)."""
    return "".join(base64.b64encode(statement.encode("utf-8")).decode("ascii") + "\n" for statement in statements)


def _build_key(distribution: FlinkDistribution) -> str:
    digest = hashlib.sha256(_SOURCE.read_bytes())
    digest.update(distribution.version.encode())
    return digest.hexdigest()[:20]


def ensure_runner_jar(distribution: FlinkDistribution | None = None) -> RunnerJar:
    """Return the runner jar, compiling it once per (runner source, Flink version).

    ``FLINKBATCH_RUNNER_JAR`` points at a prebuilt jar instead (workers without a JDK or Flink jars).
    """
    prebuilt = os.environ.get("FLINKBATCH_RUNNER_JAR")
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            raise RunnerBuildError(f"FLINKBATCH_RUNNER_JAR={prebuilt} does not exist")
        return RunnerJar(path, hashlib.sha256(path.read_bytes()).hexdigest())

    distribution = distribution or find_flink_distribution()
    target_dir = cache_dir() / "runner" / _build_key(distribution)
    jar_path = target_dir / "flinkbatch-sql-runner.jar"
    if not jar_path.exists():
        _compile(distribution, jar_path)
    return RunnerJar(jar_path, hashlib.sha256(jar_path.read_bytes()).hexdigest())


def _compile(distribution: FlinkDistribution, jar_path: Path) -> None:
    javac = shutil.which("javac")
    if javac is None:
        raise RunnerBuildError(
            "javac not found: the SQL runner is compiled with a JDK 17 "
            "(Debian: `apt-get install openjdk-17-jdk-headless`), or set FLINKBATCH_RUNNER_JAR to a prebuilt jar"
        )
    jar_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jar_path.parent) as tmp:
        classes = Path(tmp) / "classes"
        result = subprocess.run(
            [
                javac,
                "--release",
                "17",
                "-nowarn",
                "-cp",
                str(distribution.lib_dir / "*"),
                "-d",
                str(classes),
                str(_SOURCE),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RunnerBuildError(f"javac failed for {_SOURCE}:\n{result.stderr.strip()}")
        partial = Path(tmp) / "runner.jar"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as jar:
            manifest = f"Manifest-Version: 1.0\r\nMain-Class: {RUNNER_MAIN_CLASS}\r\n\r\n"
            jar.writestr(zipfile.ZipInfo("META-INF/MANIFEST.MF", _ZIP_TIME), manifest)
            for class_file in sorted(classes.rglob("*.class")):
                info = zipfile.ZipInfo(class_file.relative_to(classes).as_posix(), _ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                jar.writestr(info, class_file.read_bytes())
        os.replace(partial, jar_path)  # atomic: concurrent builders never see half a jar
