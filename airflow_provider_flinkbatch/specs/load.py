"""Load a folder of job specs: YAML + inherited ``defaults.yaml`` files -> validated JobSpecs and errors.

Rules:

* every ``*.yaml`` / ``*.yml`` under the folder is a spec, except ``defaults.yaml`` files and anything
  under a ``fixtures`` folder or a hidden/``_`` folder (test data may live there);
* ``defaults.yaml`` in the folder and in each sub-folder down to the spec are deep-merged, outermost
  first, then the spec on top (mappings merge key by key; lists and scalars are replaced);
* one bad spec never hides the others: problems are collected per file and returned with the good specs
  (the DAG factory still builds every valid DAG);
* a field that is wrong because of a defaults file is reported against that defaults file.

Parse cost: the dag-processor re-runs the DAG file every ``min_file_process_interval`` in a fresh
process, so an in-memory cache would not survive. The merged YAML of each spec is kept in a JSON file
under the provider's cache directory, keyed by the (mtime, size) of the spec and of its defaults files;
an unchanged spec costs one ``stat`` per file plus pydantic validation. ``FLINKBATCH_SPEC_CACHE=off``
disables it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from airflow_provider_flinkbatch.paths import cache_dir
from airflow_provider_flinkbatch.specs.checks import cross_spec_problems, spec_problems
from airflow_provider_flinkbatch.specs.errors import Loc, SpecError, from_validation_error, relative
from airflow_provider_flinkbatch.specs.files import SpecPathError, configured_root, confined, load_yaml
from airflow_provider_flinkbatch.specs.model import JobSpec

log = logging.getLogger(__name__)

DEFAULTS_FILE = "defaults.yaml"
SPEC_SUFFIXES = (".yaml", ".yml")
_SKIP_DIRS = ("fixtures",)
_CACHE_VERSION = 2  # 2: entries written only for files inside the spec root


@dataclass
class SpecSet:
    """The valid specs of a folder and every problem found, in file order."""

    root: Path
    specs: list[JobSpec] = field(default_factory=list)
    errors: list[SpecError] = field(default_factory=list)
    #: spec file -> its errors, so the factory can say which DAG is broken and why
    broken: dict[Path, list[SpecError]] = field(default_factory=dict)

    def by_name(self, name: str) -> JobSpec | None:
        return next((spec for spec in self.specs if spec.name == name), None)


def _yaml_load(path: Path) -> Any:
    return load_yaml(path)


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``top`` over ``base``: nested mappings merge, everything else is replaced."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def spec_files(root: Path) -> Iterator[Path]:
    """Spec files under ``root``, sorted (stable DAG order and error order)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")) and d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(SPEC_SUFFIXES) and name != DEFAULTS_FILE and not name.startswith("."):
                yield Path(dirpath) / name


def defaults_chain(root: Path, spec_path: Path) -> list[Path]:
    """``defaults.yaml`` files from ``root`` down to the spec's folder, outermost first."""
    chain: list[Path] = []
    folder = spec_path.parent
    while True:
        candidate = folder / DEFAULTS_FILE
        if candidate.is_file():
            chain.append(candidate)
        if folder == root or folder == folder.parent:
            break
        folder = folder.parent
    return chain[::-1]


def file_stamp(path: Path) -> list[int]:
    """What a cache entry is checked against: the file's mtime and size."""
    st = path.stat()
    return [st.st_mtime_ns, st.st_size]


class SpecCache:
    """Merged YAML per spec file, valid while the spec and its defaults files are unchanged (``kind``: another
    value derived from the spec's files, in a file of its own, e.g. its assets)."""

    def __init__(self, root: Path, kind: str = "") -> None:
        self.enabled = os.environ.get("FLINKBATCH_SPEC_CACHE", "on").lower() not in ("off", "0", "false", "no")
        self.entries: dict[str, Any] = {}
        self.dirty = False
        self.file: Path | None = None
        if not self.enabled:
            return

        digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.file = cache_dir() / "spec-cache" / f"{digest}{'-' + kind if kind else ''}.json"
        try:
            data = json.loads(self.file.read_text())
            if data.get("version") == _CACHE_VERSION:
                self.entries = data["entries"]
        except (OSError, ValueError, KeyError):
            pass

    def get(self, key: str, stamp: list[Any]) -> Any:
        entry = self.entries.get(key)
        return entry["value"] if entry is not None and entry["stamp"] == stamp else None

    def put(self, key: str, stamp: list[Any], value: Any) -> None:
        self.entries[key] = {"stamp": stamp, "value": value}
        self.dirty = True

    def save(self, keep: set[str]) -> None:
        if not (self.enabled and self.file is not None):
            return
        if set(self.entries) - keep:
            self.entries = {key: value for key, value in self.entries.items() if key in keep}
            self.dirty = True
        if not self.dirty:
            return
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"version": _CACHE_VERSION, "entries": self.entries}, default=str))
            os.replace(tmp, self.file)  # atomic: concurrent parsers never read half a file
        except OSError as err:  # a read-only home must not break DAG parsing
            log.debug("spec cache not written: %s", err)


def _raw_spec(path: Path, chain: list[Path], root: Path) -> tuple[dict[str, Any] | None, list[SpecError]]:
    """The spec merged over its defaults, or the file-level errors (YAML syntax, not a mapping)."""
    merged: dict[str, Any] = {}
    for source in [*chain, path]:
        shown = relative(source, root)
        try:
            data = _yaml_load(source)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err)
            return None, [SpecError(shown, (), f"invalid YAML: {where}{problem}")]
        if data is None and source != path:
            continue
        if not isinstance(data, dict):
            return None, [
                SpecError(shown, (), f"expected a mapping of fields (name: ..., sql: ...), got {type(data).__name__}")
            ]
        merged = deep_merge(merged, data)
    merged.setdefault("name", path.stem)
    return merged, []


def _origin(spec_data: dict[str, Any], chain_data: list[tuple[str, dict[str, Any]]], spec_file: str) -> Any:
    """``loc -> file``: the spec file unless only a defaults file sets (a prefix of) that field."""

    def has(data: Any, loc: Loc) -> bool:
        for part in loc:
            if isinstance(data, list) and isinstance(part, int) and part < len(data):
                data = data[part]
                continue
            if not (isinstance(data, dict) and part in data):
                return False
            data = data[part]
        return True

    def origin(loc: Loc) -> str:
        if not loc or has(spec_data, loc[:1]):
            return spec_file
        for name, data in reversed(chain_data):
            if has(data, loc[:1]):
                return name
        return spec_file

    return origin


def load_spec_file(
    path: Path, root: Path | None = None, cache: SpecCache | None = None, files_root: Path | None = None
) -> tuple[JobSpec | None, list[SpecError]]:
    """One spec (merged with its defaults) or its errors; ``files_root`` bounds the files it may read
    (default: ``root``, see :mod:`.files`)."""
    path = path if path.is_absolute() else path.resolve()
    root = root if root is not None and root.is_absolute() else (root or path.parent).resolve()
    files_root = files_root or root
    chain = defaults_chain(root, path)
    shown = relative(path, root)
    for source in [*chain, path]:  # before the cache: a symlink out of the root is refused every time
        try:
            confined(files_root, source.parent, source.name)
        except SpecPathError as err:
            return None, [SpecError(relative(source, root), (), str(err))]
    key = str(path)
    stamp = [file_stamp(p) for p in [*chain, path]]
    raw = cache.get(key, stamp) if cache is not None else None
    if raw is None:
        merged, errors = _raw_spec(path, chain, root)
        if errors:
            return None, errors
        assert merged is not None
        raw = merged
        if cache is not None:
            cache.put(key, stamp, json.loads(json.dumps(raw, default=str)))
    try:
        spec = JobSpec.model_validate(raw)
    except ValidationError as err:
        chain_data = [(relative(p, root), _yaml_load(p) or {}) for p in chain]
        own = _yaml_load(path) or {}
        return None, from_validation_error(shown, err, JobSpec, _origin(own, chain_data, shown))
    spec.bind(path, tuple(chain), files_root)
    problems = spec_problems(spec)
    if problems:
        chain_data = [(relative(p, root), _yaml_load(p) or {}) for p in chain]
        origin = _origin(_yaml_load(path) or {}, chain_data, shown)
        return None, [SpecError(origin(loc), loc, message) for loc, message in problems]
    return spec, []


def _declared_name(path: Path) -> str:
    """The ``name`` an invalid spec file declares (its file name if unreadable)."""
    try:
        data = _yaml_load(path)
    except Exception:
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name else path.stem


def _single_file_root(path: Path) -> Path:
    """For one spec file: its folder, or the outermost of the consecutive parents holding a defaults.yaml."""
    root = folder = path.parent
    while folder.parent != folder and (folder.parent / DEFAULTS_FILE).is_file():
        folder = folder.parent
        root = folder
    return root


def load_specs(folder: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> SpecSet:
    """All specs under ``folder`` (or the one spec file ``folder`` names). The files they name must lie
    inside ``folder``, or inside ``root`` / ``$FLINKBATCH_SPEC_ROOT`` when given (see :mod:`.files`)."""
    root_option = root
    given = Path(folder).resolve()
    if not given.exists():
        raise FileNotFoundError(f"{folder}: no such spec folder or file")
    root = given if given.is_dir() else _single_file_root(given)
    files_root = configured_root(root, root_option)
    files = list(spec_files(root)) if given.is_dir() else [given]
    result = SpecSet(root=root)
    cache = SpecCache(root)
    for path in files:
        spec, errors = load_spec_file(path, root, cache, files_root)
        if spec is not None:
            result.specs.append(spec)
        else:
            result.errors += errors
            result.broken[path] = errors
    if given.is_dir():
        cache.save({str(p) for p in files})
    else:
        cache.save(set(cache.entries))
    invalid = {_declared_name(path): relative(path, root) for path in result.broken}
    for spec, loc, message in cross_spec_problems(result.specs, invalid):
        error = SpecError(relative(spec.path, root), loc, message)
        result.errors.append(error)
        result.broken.setdefault(spec.path, []).append(error)
    result.errors = list(dict.fromkeys(result.errors))  # a defaults.yaml mistake is reported once
    if result.broken:
        bad = set(result.broken)
        result.specs = [spec for spec in result.specs if spec.path not in bad]
    return result
