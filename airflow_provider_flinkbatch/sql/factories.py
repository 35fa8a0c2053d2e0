"""Which connector and format jars a SQL script needs, and whether a classpath has them.

Why: without the jar, Flink fails the job at submission with "Could not find any factory for identifier
'parquet'", after the upload and with a stack trace. The script says what it needs in its ``CREATE TABLE``
options (``'connector'``, ``'format'``, ``'key.format'``, ``'value.format'``), so the gap can be found
before anything is sent, and the message can name the jar and how to add it.

Only the jars this project resolves from Maven Central are known (see ``local/maven/connectors.pom.xml``);
an identifier that neither Flink's own ``lib/`` nor a known jar provides is left to Flink to judge
(it may come from a jar the user installed, e.g. JDBC or Iceberg).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from airflow_provider_flinkbatch.lineage import _CREATE, _OPTION, _bare, _matching_paren

#: Connectors and formats in Flink 2.3's own ``lib/`` (flink-dist and friends): never missing.
BUILTIN_CONNECTORS = frozenset({"filesystem", "datagen", "blackhole", "print"})
BUILTIN_FORMATS = frozenset({"csv", "json", "raw", "debezium-json", "canal-json", "maxwell-json", "ogg-json"})
_FORMAT_KEYS = ("format", "key.format", "value.format")


@dataclass(frozen=True)
class ConnectorJar:
    """One jar from Maven Central and the factory identifiers it brings."""

    name: str  # what users write: ``flinkbatch local up --with parquet``
    artifact_id: str  # ``org.apache.flink:<artifact_id>`` in the pom
    connectors: frozenset[str] = frozenset()
    formats: frozenset[str] = frozenset()
    #: other artifacts of the pom it cannot work without (loaded with it)
    needs: tuple[str, ...] = ()

    def provides(self, kind: str, identifier: str) -> bool:
        return identifier in (self.connectors if kind == "connector" else self.formats)


KNOWN_JARS: dict[str, ConnectorJar] = {
    jar.name: jar
    for jar in (
        ConnectorJar(
            "parquet",
            "flink-sql-parquet",
            formats=frozenset({"parquet"}),
            needs=("hadoop-client-api", "hadoop-client-runtime"),  # it calls Hadoop's Configuration and Path
        ),
        ConnectorJar("avro", "flink-sql-avro", formats=frozenset({"avro"})),
        ConnectorJar("kafka", "flink-sql-connector-kafka", connectors=frozenset({"kafka", "upsert-kafka"})),
    )
}


@dataclass(frozen=True)
class Requirement:
    """A table of the script needs this connector/format identifier."""

    table: str
    kind: str  # "connector" or "format"
    identifier: str
    option: str  # the WITH option that asked for it

    def jar(self) -> ConnectorJar | None:
        return next((jar for jar in KNOWN_JARS.values() if jar.provides(self.kind, self.identifier)), None)


def table_options(statement: str) -> dict[str, str]:
    """The ``WITH (...)`` options of a ``CREATE TABLE`` statement (empty for other statements)."""
    match = _CREATE.match(statement)
    if not match:
        return {}
    close = _matching_paren(statement, match.end() - 1)
    return {key.replace("''", "'"): value.replace("''", "'") for key, value in _OPTION.findall(statement[close:])}


def requirements(statements: Sequence[str]) -> list[Requirement]:
    """Every non-built-in connector and format the script's tables ask for."""
    found: list[Requirement] = []
    for statement in statements:
        match = _CREATE.match(statement)
        if not match:
            continue
        options = table_options(statement)
        table = _bare(match["name"])
        connector = options.get("connector", "").strip().lower()
        if connector and connector not in BUILTIN_CONNECTORS:
            found.append(Requirement(table, "connector", connector, "connector"))
        for key in _FORMAT_KEYS:
            fmt = options.get(key, "").strip().lower()
            if fmt and fmt not in BUILTIN_FORMATS:
                found.append(Requirement(table, "format", fmt, key))
    return found


def needed_jars(statements: Sequence[str]) -> list[str]:
    """Names of the known jars the script needs (``--with`` values), in a stable order."""
    names = {jar.name for requirement in requirements(statements) if (jar := requirement.jar()) is not None}
    return sorted(names)


def parse_with(value: str | Iterable[str]) -> list[str]:
    """``"parquet,avro"`` (or several ``--with``) -> known jar names; an unknown one is an error naming the known."""
    items = [value] if isinstance(value, str) else list(value)
    names = [part.strip().lower() for item in items for part in item.split(",") if part.strip()]
    unknown = [name for name in names if name not in KNOWN_JARS]
    if unknown:
        raise ValueError(f"--with {','.join(unknown)}: unknown jar; choose from {', '.join(KNOWN_JARS)}")
    return sorted(set(names))


_JAR_NAME = re.compile(r"(?P<artifact>[a-z0-9-]+?)-\d[\w.-]*\.jar$")


def jars_on_classpath(classpath: Iterable[str]) -> set[str]:
    """Known jar names whose artifact is on a JVM classpath (entries are jar paths)."""
    artifacts = set()
    for entry in classpath:
        match = _JAR_NAME.search(entry.rsplit("/", 1)[-1])
        if match:
            artifacts.add(match["artifact"])
    return {jar.name for jar in KNOWN_JARS.values() if jar.artifact_id in artifacts}


class MissingConnectorJar(ValueError):
    """A table needs a connector or format jar the cluster does not have."""


def missing_jar_message(statements: Sequence[str], available: set[str], where: str) -> str | None:
    """Why the script cannot run on a cluster with ``available`` jars, or None when nothing known is missing."""
    missing = [
        (requirement, jar)
        for requirement in requirements(statements)
        if (jar := requirement.jar()) is not None and jar.name not in available
    ]
    if not missing:
        return None
    lines = [
        f"table {requirement.table}: '{requirement.option}' = '{requirement.identifier}' needs "
        f"org.apache.flink:{jar.artifact_id}, which {where} does not have"
        for requirement, jar in missing
    ]
    names = ",".join(sorted({jar.name for _, jar in missing}))
    return (
        "; ".join(lines)
        + f". Add it: `flinkbatch local up --with {names}` for the local cluster, or put the jar into the "
        "cluster's lib/ folder (Kubernetes: the image; YARN: yarn.ship-files) and restart it"
    )
