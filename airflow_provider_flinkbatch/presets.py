"""Named Flink configuration presets for batch jobs: the settings production teams keep getting wrong.

``presets=["adaptive-batch", "celeborn"]`` on the operator (or in a job spec) merges each preset's
keys into ``flink_config`` in order; the user's own ``flink_config`` always wins, and every key a
user overrides is logged so a surprise is visible. A preset may *require* keys it cannot guess
(Celeborn's master endpoints): those must come from ``flink_config`` and are validated here.

Every key below is a real option of Flink 2.3 (the tests read the option list out of the Flink jars)
or, for Celeborn, a documented Celeborn client key.

Most batch tuning is *cluster-level*: the JobManager reads scheduler settings (adaptive parallelism,
speculation) and the TaskManagers read shuffle settings from their own start-up configuration, not
from a job submitted to a running session cluster. Verified on Flink 2.3: sent with a job to a session
cluster, ``adaptive-batch`` changes nothing and ``hybrid-shuffle`` fails the job (NullPointerException
in ``ResultPartitionFactory.create``); given to the cluster at start-up both work. So cluster-level
presets take effect where the job gets its own cluster (Kubernetes application mode, yarn-application)
or in a session cluster's configuration (``flinkbatch local up --preset ...``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

CELEBORN_SHUFFLE_FACTORY = "org.apache.celeborn.plugin.flink.RemoteShuffleServiceFactory"
#: Celeborn's own client keys used here: not Flink options, so the Flink option test skips them
#: (tests/local/test_celeborn_service.py checks them against the options the built client jar registers).
CELEBORN_CLIENT_KEYS = frozenset({"celeborn.master.endpoints"})
_HOST_PORT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$")


class PresetError(ValueError):
    """A preset name is unknown or its required settings are missing or malformed."""


def _check_endpoints(value: str) -> str | None:
    endpoints = [part.strip() for part in value.split(",")]
    bad = [part for part in endpoints if not _HOST_PORT.match(part) or int(part.rsplit(":", 1)[1]) > 65535]
    if not value.strip() or bad:
        return f"expected host:port[,host:port...], got {value!r}"
    return None


@dataclass(frozen=True)
class Preset:
    """A named set of Flink options, the options a user must add, and what to know before using it."""

    name: str
    config: Mapping[str, str]
    summary: str
    #: key -> (what to put there, optional validator returning a problem or None)
    required: Mapping[str, tuple[str, Callable[[str], str | None] | None]] = field(default_factory=dict)
    note: str = ""
    cluster_level: bool = False


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="celeborn",
            summary="Remote shuffle through Apache Celeborn: shuffle data leaves the TaskManagers, "
            "so lost TaskManagers do not force upstream recomputation",
            config={
                "shuffle-service-factory.class": CELEBORN_SHUFFLE_FACTORY,
                # Celeborn's Flink client supports blocking exchanges only, and no replicated pushes
                # (celeborn.client.push.replicate.enabled=true stops the JobManager: "Flink does not support
                # replicate shuffle data"), so that key is left at its default (false)
                "execution.batch-shuffle-mode": "ALL_EXCHANGES_BLOCKING",
            },
            required={
                "celeborn.master.endpoints": ("the Celeborn masters, host:port[,host:port]", _check_endpoints),
            },
            note="The celeborn-client-flink-<version>-shaded jar must be in Flink's lib/ on the cluster "
            "(not shipped by this provider). The shuffle service is chosen per cluster: use it with "
            "Kubernetes application mode, yarn-application, or a session cluster configured the same way.",
            cluster_level=True,
        ),
        Preset(
            name="adaptive-batch",
            summary="Adaptive batch scheduler decides each vertex's parallelism from the data it reads",
            config={
                "jobmanager.scheduler": "AdaptiveBatch",
                # -1 = "not set": the scheduler only decides parallelism for vertices without one
                "parallelism.default": "-1",
                "execution.batch.adaptive.auto-parallelism.enabled": "true",
                "execution.batch.adaptive.auto-parallelism.min-parallelism": "1",
                "execution.batch.adaptive.auto-parallelism.max-parallelism": "128",
                "execution.batch.adaptive.auto-parallelism.avg-data-volume-per-task": "256mb",
                "execution.batch.adaptive.auto-parallelism.default-source-parallelism": "16",
            },
            cluster_level=True,
        ),
        Preset(
            name="speculative",
            summary="Speculative execution: slow tasks get a second attempt on another TaskManager",
            config={
                "execution.batch.speculative.enabled": "true",
                "execution.batch.speculative.max-concurrent-executions": "2",
                "slow-task-detector.check-interval": "1 s",
                "slow-task-detector.execution-time.baseline-multiplier": "1.5",
                "slow-task-detector.execution-time.baseline-ratio": "0.75",
            },
            note="Needs the adaptive batch scheduler (Flink's default for batch jobs).",
            cluster_level=True,
        ),
        Preset(
            name="blocking-shuffle",
            summary="All exchanges blocking: stages run one after another, least memory, easiest restarts",
            config={"execution.batch-shuffle-mode": "ALL_EXCHANGES_BLOCKING"},
        ),
        Preset(
            name="hybrid-shuffle",
            summary="Hybrid shuffle: downstream stages start while upstream ones still produce",
            config={"execution.batch-shuffle-mode": "ALL_EXCHANGES_HYBRID_FULL"},
            note="The TaskManagers must be started with it: a session cluster whose TaskManagers use blocking "
            "shuffle fails the job with a NullPointerException in ResultPartitionFactory.create.",
            cluster_level=True,
        ),
        Preset(
            name="memory-small",
            summary="1 GiB JobManager, 2 GiB TaskManagers with 2 slots",
            config={
                "jobmanager.memory.process.size": "1g",
                "taskmanager.memory.process.size": "2g",
                "taskmanager.numberOfTaskSlots": "2",
            },
            cluster_level=True,
        ),
        Preset(
            name="memory-large",
            summary="4 GiB JobManager, 16 GiB TaskManagers with 8 slots and a larger managed memory share",
            config={
                "jobmanager.memory.process.size": "4g",
                "taskmanager.memory.process.size": "16g",
                "taskmanager.numberOfTaskSlots": "8",
                "taskmanager.memory.managed.fraction": "0.5",
            },
            cluster_level=True,
        ),
    )
}


def check_preset_names(names: Iterable[str]) -> list[str]:
    """The names as a list, or a PresetError naming the unknown ones and the known choices."""
    names = list(names)
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        raise PresetError(f"unknown preset(s) {unknown}; known presets: {sorted(PRESETS)}")
    return names


def apply_presets(names: Iterable[str], flink_config: Mapping[str, Any]) -> dict[str, Any]:
    """``flink_config`` on top of the presets' keys, after checking each preset's required keys.

    Later presets override earlier ones; the user's keys override all presets. Overrides are logged.
    """
    names = check_preset_names(names)
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name in names:
        for key, value in PRESETS[name].config.items():
            if key in merged and merged[key] != value:
                log.info("preset %r sets %s=%s (was %s from preset %r)", name, key, value, merged[key], origin[key])
            merged[key], origin[key] = value, name
    for key, value in flink_config.items():
        if key in merged and str(value) != merged[key]:
            log.info("flink_config sets %s=%s, overriding preset %r (%s)", key, value, origin[key], merged[key])
        merged[key] = value
    problems = []
    for name in names:
        for key, (what, check) in PRESETS[name].required.items():
            given = merged.get(key)
            if given is None or not str(given).strip():
                problems.append(f"preset {name!r} needs {key} in flink_config: {what}")
            elif check is not None and (problem := check(str(given))) is not None:
                problems.append(f"preset {name!r}: {key}: {problem}")
    if problems:
        raise PresetError("; ".join(problems))
    return merged


def cluster_level(names: Iterable[str]) -> list[str]:
    """The presets among ``names`` that only work in the cluster's start-up configuration."""
    return [name for name in names if PRESETS[name].cluster_level]


def session_warning(names: Iterable[str]) -> str | None:
    """What to tell a user who sends cluster-level presets with a job to a session cluster, or None."""
    shared = cluster_level(names)
    if not shared:
        return None
    return (
        f"Preset(s) {shared} are cluster-level: on a session cluster they take effect only if the cluster was "
        "started with them (Kubernetes application mode and yarn-application apply them per job)"
    )


def describe_presets() -> str:
    """A readable list of the presets (``flinkbatch presets``)."""
    lines = []
    for preset in PRESETS.values():
        lines.append(f"{preset.name}: {preset.summary}")
        lines.extend(f"    {key} = {value}" for key, value in preset.config.items())
        lines.extend(f"    {key} = <required: {what}>" for key, (what, _) in preset.required.items())
        if preset.cluster_level:
            lines.append("    (cluster-level: application mode, or the session cluster's own config)")
        if preset.note:
            lines.append(f"    note: {preset.note}")
    return "\n".join(lines)


def config_pairs(pairs: list[str]) -> dict[str, str]:
    """``--config KEY=VALUE`` options of the CLI as a config mapping (what :func:`apply_presets` merges under)."""
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--config {pair!r}: write it as key=value, e.g. --config parallelism.default=4")
        config[key.strip()] = value.strip()
    return config
