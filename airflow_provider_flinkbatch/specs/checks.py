"""Checks on a spec that types alone cannot express, cheap enough to run at every DAG parse.

* well-known Flink options have the right kind of value (``parallelism.default: eight`` is caught here,
  not minutes later by the JobManager); unknown keys pass, Flink itself is the judge of those;
* preset names exist, and the keys a preset requires are present;
* ``resources`` and ``flink_config`` do not set the same option to different values;
* ``target`` / ``target_options`` / ``retry_on`` are what the operator accepts;
* across specs: unique names, ``depends_on`` names a known spec (one of another DAG schedules this DAG on its
  assets, so the DAG has no ``schedule``), no cycles, one schedule per DAG.

Everything expensive (file reads, rendering, EXPLAIN, connection lookups) belongs to ``flinkbatch validate``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, get_args

from airflow_provider_flinkbatch.diagnosis import Category
from airflow_provider_flinkbatch.presets import PRESETS, PresetError, apply_presets
from airflow_provider_flinkbatch.specs.errors import Loc
from airflow_provider_flinkbatch.specs.files import SpecPathError
from airflow_provider_flinkbatch.specs.model import RESOURCE_KEYS, JobSpec
from airflow_provider_flinkbatch.targets.registry import TargetOptionsError, validate_target_options

_MEMORY = re.compile(r"^\s*\d+\s*(b|bytes|k|kb|kibibytes|m|mb|mebibytes|g|gb|gibibytes|t|tb|tebibytes)?\s*$", re.I)
_DURATION = re.compile(
    r"^\s*\d+\s*(ms|milli|millis|millisecond|s|sec|secs|second|seconds|min|m|minute|minutes|h|hour|hours|d|day|days)?\s*$",
    re.I,
)


def _int(value: Any) -> str | None:
    if isinstance(value, bool):
        return "int"
    if isinstance(value, int):
        return None
    return None if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()) else "int"


def _bool(value: Any) -> str | None:
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false")):
        return None
    return "true or false"


def _memory(value: Any) -> str | None:
    return None if not isinstance(value, bool) and _MEMORY.match(str(value)) else "a memory size like '1g' or '512mb'"


def _duration(value: Any) -> str | None:
    return None if not isinstance(value, bool) and _DURATION.match(str(value)) else "a duration like '30 s' or '5 min'"


def _enum(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if str(value).upper() in {c.upper() for c in choices} else "one of " + ", ".join(choices)

    return check


#: Options users set most often, with the kind of value Flink 2.3 expects (names as in Flink's docs).
FLINK_OPTION_KINDS: dict[str, Callable[[Any], str | None]] = {
    "parallelism.default": _int,
    "pipeline.max-parallelism": _int,
    "taskmanager.numberOfTaskSlots": _int,
    "table.exec.resource.default-parallelism": _int,
    "execution.batch.adaptive.auto-parallelism.enabled": _bool,
    "execution.batch.adaptive.auto-parallelism.min-parallelism": _int,
    "execution.batch.adaptive.auto-parallelism.max-parallelism": _int,
    "execution.batch.adaptive.auto-parallelism.default-source-parallelism": _int,
    "execution.batch.adaptive.auto-parallelism.avg-data-volume-per-task": _memory,
    "execution.batch.speculative.enabled": _bool,
    "execution.batch.speculative.max-concurrent-executions": _int,
    "execution.batch-shuffle-mode": _enum(
        "ALL_EXCHANGES_PIPELINED",
        "ALL_EXCHANGES_BLOCKING",
        "ALL_EXCHANGES_HYBRID_FULL",
        "ALL_EXCHANGES_HYBRID_SELECTIVE",
    ),
    "execution.runtime-mode": _enum("BATCH", "STREAMING", "AUTOMATIC"),
    "jobmanager.memory.process.size": _memory,
    "taskmanager.memory.process.size": _memory,
    "taskmanager.memory.managed.size": _memory,
    "taskmanager.memory.managed.fraction": lambda v: (
        None if re.fullmatch(r"0?\.\d+|[01](\.0*)?", str(v)) else "a fraction between 0 and 1"
    ),
    "table.exec.mini-batch.enabled": _bool,
    "table.exec.mini-batch.allow-latency": _duration,
    "table.optimizer.dynamic-filtering.enabled": _bool,
    "table.optimizer.join-reorder-enabled": _bool,
    "table.exec.sink.not-null-enforcer": _enum("ERROR", "DROP"),
    "table.local-time-zone": lambda v: None if isinstance(v, str) and v.strip() else "a time zone like 'UTC'",
    "restart-strategy.type": _enum(
        "none",
        "off",
        "disable",
        "fixeddelay",
        "fixed-delay",
        "failurerate",
        "failure-rate",
        "exponentialdelay",
        "exponential-delay",
    ),
    "restart-strategy.fixed-delay.attempts": _int,
    "restart-strategy.fixed-delay.delay": _duration,
}


def flink_config_problems(config: dict[str, Any], base: Loc = ("flink_config",)) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for key, value in config.items():
        check = FLINK_OPTION_KINDS.get(key)
        expected = check(value) if check is not None else None
        if expected:
            problems.append(((*base, key), f"expected {expected}, got {value!r}"))
    return problems


def named_files(spec: JobSpec) -> list[tuple[Loc, str]]:
    """Every file path the spec names, with its field path: SQL, Avro schemas, test fixture files."""
    files: list[tuple[Loc, str]] = [(("sql", index), name) for index, name in enumerate(spec.sql)]
    for kind, refs in (("sources", spec.sources), ("sinks", spec.sinks)):
        for index, ref in enumerate(refs):
            for field in ("avro_schema", "latest_avro_schema"):
                if getattr(ref, field):
                    files.append(((kind, index, field), getattr(ref, field)))
    for index, case in enumerate(spec.tests):
        for part in ("inputs", "expected"):
            for table, data in getattr(case, part).items():
                if data.file is not None:
                    files.append((("tests", index, part, table), data.file))
    return files


def path_problems(spec: JobSpec) -> list[tuple[Loc, str]]:
    """Paths that leave the spec root (absolute, ``..``, symlinks out): see :mod:`.files`."""
    problems: list[tuple[Loc, str]] = []
    for loc, name in named_files(spec):
        try:
            spec.resolve(name)
        except SpecPathError as err:
            problems.append((loc, str(err)))
    return problems


def spec_problems(spec: JobSpec) -> list[tuple[Loc, str]]:
    """Problems of one spec, each with its field path."""
    problems = flink_config_problems(spec.flink_config)
    problems += path_problems(spec)
    for index, name in enumerate(spec.sql):
        try:
            missing = not spec.resolve(name).is_file()
        except SpecPathError:
            continue  # reported by path_problems
        if missing:
            problems.append((("sql", index), f"{name}: no such file (paths are relative to {spec.path.name})"))
    if spec.schedule and spec.start_date is None:
        problems.append((("start_date",), "required when schedule is set (e.g. start_date: 2026-01-01)"))
    for index, name in enumerate(spec.presets):
        if name not in PRESETS:
            problems.append((("presets", index), f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}"))
    if not problems:
        problems += _preset_requirements(spec)
    for field, key in RESOURCE_KEYS.items():
        value = getattr(spec.resources, field)
        given = spec.flink_config.get(key)
        if value is not None and given is not None and str(given) != str(value):
            problems.append(
                (
                    ("resources", field),
                    f"{value!r} conflicts with flink_config.{key}={given!r}: set it in one place",
                )
            )
    problems += _operator_problems(spec)
    if spec.name in spec.depends_on:
        problems.append((("depends_on",), f"{spec.name!r} cannot depend on itself"))
    return problems


def _preset_requirements(spec: JobSpec) -> list[tuple[Loc, str]]:
    try:
        apply_presets(spec.presets, spec.flink_config)
    except PresetError as err:
        return [(("presets",), str(err))]
    return []


def _operator_problems(spec: JobSpec) -> list[tuple[Loc, str]]:
    """The operator's own parse-time checks, reported with the spec's field names."""
    problems: list[tuple[Loc, str]] = []
    try:
        validate_target_options(spec.target, spec.target_options)
    except TargetOptionsError as err:
        field = "target" if "is not a known target" in str(err) else "target_options"
        problems.append(((field,), str(err).split(": ", 1)[-1] if field == "target_options" else str(err)))
    known = get_args(Category)
    for category in spec.retry_on:
        if category not in known:
            problems.append((("retry_on", category), f"unknown failure category; known: {', '.join(known)}"))
    return problems


def cross_spec_problems(
    specs: Sequence[JobSpec], invalid: dict[str, str] | None = None
) -> list[tuple[JobSpec, Loc, str]]:
    """Problems that need all specs: duplicate names, dependencies, cycles, DAG-level agreement.

    ``invalid``: name -> file of the specs that failed to load, so a dependency on one of them says so.
    """
    invalid = invalid or {}
    problems: list[tuple[JobSpec, Loc, str]] = []
    by_name: dict[str, JobSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            problems.append((spec, ("name",), f"{spec.name!r} is already used by {by_name[spec.name].path.name}"))
        else:
            by_name[spec.name] = spec
    for spec in specs:
        for index, other_name in enumerate(spec.depends_on):
            other = by_name.get(other_name)
            if other is None and other_name in invalid:
                problems.append(
                    (spec, ("depends_on", index), f"{other_name!r} is invalid ({invalid[other_name]}): fix it first")
                )
            elif other is None:
                known = ", ".join(sorted(by_name)) or "none"
                close = difflib.get_close_matches(other_name, list(by_name), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                problems.append((spec, ("depends_on", index), f"no spec named {other_name!r} (specs: {known}){hint}"))
            elif other.dag_id != spec.dag_id and spec.schedule is not None:
                problems.append(
                    (
                        spec,
                        ("depends_on", index),
                        f"{other_name!r} runs in DAG {other.dag_id!r}: this DAG ({spec.dag_id!r}) is then scheduled "
                        f"on the assets {other_name!r} writes, not by schedule {spec.schedule!r}; set schedule: null "
                        "(or give both the same 'dag:' key to run them in one DAG)",
                    )
                )
        for index, ref in enumerate(spec.sources):
            if ref.asset is not None:
                problems.append(
                    (
                        spec,
                        ("sources", index, "asset"),
                        "asset names what a sink's events are; sources come from the SQL",
                    )
                )
    problems += _cycles(specs, by_name)
    problems += _dag_agreement(specs)
    return problems


def _cycles(specs: Sequence[JobSpec], by_name: dict[str, JobSpec]) -> list[tuple[JobSpec, Loc, str]]:
    problems: list[tuple[JobSpec, Loc, str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in by_name:
            return
        if state.get(name) == 1:
            cycle = [*path[path.index(name) :], name]
            problems.append((by_name[name], ("depends_on",), "dependency cycle: " + " -> ".join(cycle)))
            return
        state[name] = 1
        for other in by_name[name].depends_on:
            visit(other, [*path, name])
        state[name] = 2

    for spec in specs:
        visit(spec.name, [])
    return problems


def _dag_agreement(specs: Sequence[JobSpec]) -> list[tuple[JobSpec, Loc, str]]:
    """Specs sharing a ``dag`` key build one DAG: its schedule and start_date must be the same."""
    problems: list[tuple[JobSpec, Loc, str]] = []
    first: dict[str, JobSpec] = {}
    for spec in specs:
        if spec.dag is None:
            continue
        lead = first.setdefault(spec.dag, spec)
        for field in ("schedule", "start_date", "catchup"):
            if getattr(spec, field) != getattr(lead, field):
                problems.append(
                    (
                        spec,
                        (field,),
                        f"{getattr(spec, field)!r} differs from {getattr(lead, field)!r} in {lead.path.name}, "
                        f"which is in the same DAG {spec.dag!r}: jobs of one DAG share its {field}",
                    )
                )
    return problems
