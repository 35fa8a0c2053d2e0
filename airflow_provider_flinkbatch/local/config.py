"""The Flink configuration of the local cluster: one place for every key it sets."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

# Flink 2.3's default env.java.opts.all (flink-dist's config.yaml): Java 17 needs these for Flink's
# reflection and RPC; plain `java` (no bin/ scripts in the wheel) must pass them itself.
JAVA_17_OPTS: tuple[str, ...] = (
    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
    *(
        f"--add-exports=jdk.compiler/com.sun.tools.javac.{pkg}=ALL-UNNAMED"
        for pkg in ("api", "file", "parser", "tree", "util")
    ),
    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    *(
        f"--add-opens=java.base/{pkg}=ALL-UNNAMED"
        for pkg in (
            "java.lang",
            "java.net",
            "java.io",
            "java.nio",
            "sun.nio.ch",
            "java.lang.reflect",
            "java.text",
            "java.time",
            "java.util",
            "java.util.concurrent",
            "java.util.concurrent.atomic",
            "java.util.concurrent.locks",
        )
    ),
)

#: Flink's own log line layout (flink-dist's log4j.properties).
FLINK_LOG_PATTERN = "%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n"


def log4j_properties(
    *,
    append: bool = True,
    pattern: str = FLINK_LOG_PATTERN,
    quiet: Mapping[str, str] | None = None,
    to_console: Mapping[str, str] | None = None,
) -> str:
    """A log4j2 properties file for the local JVMs: everything at INFO into ``${sys:log.file}``.

    ``quiet``: loggers (key -> logger name) held at WARN; ``to_console``: loggers also printed at INFO on the
    console (how the Flink CLI shows submission progress while logging the rest to its file).
    """
    lines = [
        "rootLogger.level = INFO",
        "rootLogger.appenderRef.file.ref = FileAppender",
        "appender.file.name = FileAppender",
        "appender.file.type = File",
        f"appender.file.append = {str(append).lower()}",
        "appender.file.fileName = ${sys:log.file}",
        "appender.file.layout.type = PatternLayout",
        f"appender.file.layout.pattern = {pattern}",
    ]
    if to_console:
        lines += [
            "appender.console.name = ConsoleAppender",
            "appender.console.type = Console",
            "appender.console.layout.type = PatternLayout",
            f"appender.console.layout.pattern = {pattern}",
        ]
    for key, logger in (to_console or {}).items():
        lines += [f"logger.{key}.name = {logger}", f"logger.{key}.level = INFO"]
        lines.append(f"logger.{key}.appenderRef.console.ref = ConsoleAppender")
    for key, logger in (quiet or {}).items():
        lines += [f"logger.{key}.name = {logger}", f"logger.{key}.level = WARN"]
    return "\n".join(lines) + "\n"


#: The JobManager's, TaskManager's and HistoryServer's log.
LOG4J_PROPERTIES = log4j_properties(quiet={"netty": "org.apache.flink.shaded.netty4.io.netty"})


def cluster_flink_config(*, archive_dir: str) -> dict[str, str]:
    """Settings every Flink cluster of this project shares: the local one and the docker-compose stack.

    ``docker-compose.yaml`` carries the same keys (see :func:`compose_flink_config`; a test keeps the
    two equal), so what works against ``flinkbatch local up`` works against the compose stack.
    """
    return {
        "jobmanager.memory.process.size": "1024m",
        "taskmanager.numberOfTaskSlots": "2",
        "taskmanager.memory.process.size": "1536m",
        "parallelism.default": "1",
        # GET /jobs/<id> is cached for this long; the default 3 s makes finished jobs look RUNNING.
        "web.refresh-interval": "500",
        "jobmanager.archive.fs.dir": archive_dir,
        "historyserver.archive.fs.dir": archive_dir,
        "historyserver.archive.fs.refresh-interval": "1 s",
        # A System.exit() in a user main() would otherwise kill the JobManager.
        "cluster.intercept-user-system-exit": "THROW",
        "execution.runtime-mode": "BATCH",
    }


def local_flink_config(*, state_dir: Path, rest_port: int, rpc_port: int, history_port: int) -> dict[str, str]:
    """Flink configuration of the local session cluster (flat keys, as Flink's config.yaml accepts).

    Everything binds to 127.0.0.1; ports are chosen free by the caller; jobs are archived to
    ``<state>/archive`` where the HistoryServer picks them up every second.
    """
    return {
        **cluster_flink_config(archive_dir=(state_dir / "archive").as_uri()),
        "jobmanager.rpc.address": "127.0.0.1",
        "jobmanager.rpc.port": str(rpc_port),
        "jobmanager.bind-host": "127.0.0.1",
        "taskmanager.bind-host": "127.0.0.1",
        "taskmanager.host": "127.0.0.1",
        "rest.address": "127.0.0.1",
        "rest.bind-address": "127.0.0.1",
        "rest.port": str(rest_port),
        "web.upload.dir": str(state_dir / "uploads"),
        "io.tmp.dirs": str(state_dir / "tmp"),
        "historyserver.web.address": "127.0.0.1",
        "historyserver.web.port": str(history_port),
    }


#: Where the compose stack's JobManager, HistoryServer and Airflow containers mount the job archive volume.
COMPOSE_ARCHIVE_DIR = "file:///opt/flink/archive"


def compose_flink_config() -> dict[str, str]:
    """Flink configuration of ``docker-compose.yaml`` (its ``FLINK_PROPERTIES``): service names, fixed ports.

    Values as Compose resolves them with an empty environment: the file reads ``jobmanager.archive.fs.dir``
    from ``${FLINK_ARCHIVE_DIR:-file:///opt/flink/archive}`` (the ``minio`` profile switches archives to
    S3) and the S3 credentials from the MinIO variables, whose defaults are these.
    """
    return {
        **cluster_flink_config(archive_dir=COMPOSE_ARCHIVE_DIR),
        "jobmanager.rpc.address": "jobmanager",
        "jobmanager.bind-host": "0.0.0.0",  # noqa: S104  (inside the container network)
        "taskmanager.bind-host": "0.0.0.0",  # noqa: S104
        "rest.address": "jobmanager",
        "rest.bind-address": "0.0.0.0",  # noqa: S104
        "rest.port": "8081",
        "historyserver.web.address": "0.0.0.0",  # noqa: S104
        "historyserver.web.port": "8082",
        # The minio profile's S3 (read only when FLINK_ARCHIVE_DIR=s3://...).
        "s3.endpoint": "http://minio:9000",
        "s3.path.style.access": "true",
        "s3.access-key": "flinkbatch",  # MINIO_ROOT_USER's default
        "s3.secret-key": "flinkbatch-secret",  # MINIO_ROOT_PASSWORD's default
    }


def render_flink_properties(config: dict[str, str]) -> str:
    """``key: value`` lines for the Flink image's ``FLINK_PROPERTIES`` (what ``docker-compose.yaml`` holds)."""
    return "".join(f"{key}: {value}\n" for key, value in sorted(config.items()))


def render_config_yaml(config: dict[str, str]) -> str:
    """Flat ``key: "value"`` lines; values are JSON-quoted so YAML reads them as plain strings."""
    return "".join(f"{key}: {json.dumps(value)}\n" for key, value in sorted(config.items()))
