"""Fail fast when a cluster is started with Celeborn remote shuffle that cannot work.

Why: with ``shuffle-service-factory.class`` set to Celeborn's factory, a TaskManager without the Celeborn
Flink client jar does not start (``ClassNotFoundException``), and with the jar but no reachable master the
client retries its RPCs before it gives up ("After trying all the available Master Addresses(...), an
usable link still couldn't be created.", Celeborn's ``MasterClient``). Both are cheap to see before any
JVM starts: the jar either contains the factory class or not, and a master either accepts a TCP
connection on its endpoint or not.

Celeborn's Flink client also refuses ``celeborn.client.push.replicate.enabled=true`` ("Flink does not support
replicate shuffle data", ``FlinkUtils.toCelebornConf``) when the JobManager creates its shuffle master, so the
cluster would not start: that is checked here too.

The client jar is not on the Maven Central this project reaches; :mod:`.celeborn_build` builds it (and a
master and worker) from Celeborn's sources. Pass it with ``flinkbatch local up --jar``.
"""

from __future__ import annotations

import socket
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from airflow_provider_flinkbatch.presets import CELEBORN_SHUFFLE_FACTORY

CLIENT_COORDINATES = "org.apache.celeborn:celeborn-client-flink-2.3-shaded_2.12"
REPLICATE = "celeborn.client.push.replicate.enabled"
_FACTORY_ENTRY = CELEBORN_SHUFFLE_FACTORY.replace(".", "/") + ".class"


class CelebornUnavailable(RuntimeError):
    """The Celeborn shuffle the config asks for cannot work; the message says which part and the fix."""


def _has_factory(jar: Path) -> bool:
    try:
        with zipfile.ZipFile(jar) as archive:
            return _FACTORY_ENTRY in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _answers(endpoint: str, timeout: float) -> bool:
    host, _, port = endpoint.strip().rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def check_celeborn(config: Mapping[str, str], jars: Sequence[Path], *, timeout: float = 2.0) -> None:
    """Raise :class:`CelebornUnavailable` when ``config`` selects Celeborn and it cannot work here."""
    if config.get("shuffle-service-factory.class") != CELEBORN_SHUFFLE_FACTORY:
        return
    if not any(_has_factory(Path(jar)) for jar in jars):
        raise CelebornUnavailable(
            f"shuffle-service-factory.class = {CELEBORN_SHUFFLE_FACTORY} (preset 'celeborn') needs the Celeborn "
            f"Flink client on the cluster's classpath ({CLIENT_COORDINATES} or a newer build for your Flink), and "
            "none of the cluster's jars has it: add it with `flinkbatch local up --jar <client jar>` "
            "(a cluster without it would not start its TaskManager)"
        )
    if str(config.get(REPLICATE, "false")).strip().lower() == "true":
        raise CelebornUnavailable(
            f"{REPLICATE} = true: Celeborn's Flink client does not support replicated shuffle data (\"Flink does "
            f'not support replicate shuffle data") and the JobManager would not start; remove it or set it to false'
        )
    endpoints = [part for part in config.get("celeborn.master.endpoints", "").split(",") if part.strip()]
    if not endpoints:
        raise CelebornUnavailable("the celeborn preset needs celeborn.master.endpoints (host:port[,host:port])")
    if not any(_answers(endpoint, timeout) for endpoint in endpoints):
        raise CelebornUnavailable(
            f"no Celeborn master answers at {', '.join(endpoints)} (celeborn.master.endpoints): start the master "
            "or fix the endpoints; jobs would fail their shuffle after the client's RPC retries"
        )
