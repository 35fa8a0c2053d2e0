"""What a spec may read: files inside its root, and YAML of bounded size.

Specs are written by many hands and parsed by the DAG processor, the CLI and the workers, so a spec
must not be a way to read arbitrary files of those machines (``sql: /etc/passwd``, ``../../secrets``,
a symlink pointing out of the repository) nor to stall them (a "billion laughs" document: a few
hundred bytes whose aliases expand to a billion values once anything walks, validates or serializes
the data).

Rules:

* every path a spec names (``sql:``, test fixtures, Avro schemas) and every spec / ``defaults.yaml``
  file read is resolved inside the *root*: the folder given to ``build_dags`` / ``load_specs`` / the CLI,
  or the folder named by ``root=`` or ``$FLINKBATCH_SPEC_ROOT`` when set (for specs that share files
  kept next to the spec folder);
* absolute paths and ``..`` segments that leave the root are rejected, and so is a symlink whose target
  lies outside the root (symlinks inside it are fine);
* a YAML document is at most ``MAX_YAML_BYTES`` on disk (checked before it is read) and at most
  ``MAX_YAML_VALUES`` values once aliases are expanded and ``MAX_YAML_DEPTH`` levels deep (counted right
  after parsing, before anything else touches the data); a recursive alias is rejected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

ROOT_ENV = "FLINKBATCH_SPEC_ROOT"
MAX_YAML_BYTES = 1024 * 1024
MAX_YAML_VALUES = 200_000
MAX_YAML_DEPTH = 100
_TOO_DEEP = f"values nested more than {MAX_YAML_DEPTH} levels deep; flatten the document"


class SpecPathError(ValueError):
    """A path in a spec points outside the spec root; the message names the path, the root and the fix."""


class YamlBoundsError(yaml.YAMLError):
    """A YAML document is too large or expands (through aliases) beyond the limit."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def configured_root(folder: Path, root: str | os.PathLike[str] | None = None) -> Path:
    """The root files must stay in: ``root`` if given, else ``$FLINKBATCH_SPEC_ROOT``, else ``folder``."""
    chosen = root if root is not None else os.environ.get(ROOT_ENV) or None
    path = Path(chosen).resolve() if chosen is not None else folder
    if chosen is not None and not _inside(folder.resolve(), path):
        raise SpecPathError(f"the spec folder {folder} is not inside the configured spec root {path}: fix {ROOT_ENV}")
    return path


def _inside(path: Path | str, root: Path | str) -> bool:
    path, root = str(path), str(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def confined(root: Path, base: Path, name: str) -> Path:
    """``name`` (relative to ``base``) as a path inside ``root``, or :class:`SpecPathError` saying why not."""
    fix = f"keep the files a spec uses inside {root} (or point {ROOT_ENV} at a folder that holds them)"
    if os.path.isabs(name) or name.startswith("~"):
        raise SpecPathError(f"{name} is an absolute path; give a path relative to the spec file, {fix}")
    # normpath, not Path.resolve(), for the spelled path: ``..`` counts as written, symlinks checked below
    path = Path(os.path.normpath(base / name))
    if not _inside(path, root):
        raise SpecPathError(f"{name} leaves the spec root {root}: {fix}")
    real = os.path.realpath(path)
    if real != str(path) and not _inside(real, os.path.realpath(root)):
        raise SpecPathError(f"{name} is a symlink to {real}, outside the spec root {root}: {fix}")
    return path


def _count_values(data: Any) -> None:
    """Walk the parsed document as a consumer would (an alias target once per use), within the bounds."""
    budget = MAX_YAML_VALUES
    stack: list[tuple[Any, frozenset[int]]] = [(data, frozenset())]
    while stack:
        value, parents = stack.pop()
        children: list[Any] = [*value.keys(), *value.values()] if isinstance(value, dict) else list(value)
        budget -= 1 + len(children)
        if budget < 0:
            raise YamlBoundsError(
                f"the document holds more than {MAX_YAML_VALUES} values once its aliases (*name) are expanded; "
                "write the values out or split the spec (a 'billion laughs' document?)"
            )
        if id(value) in parents:
            raise YamlBoundsError("a recursive alias: an anchored value (&name) contains itself (*name); remove it")
        if len(parents) >= MAX_YAML_DEPTH:
            raise YamlBoundsError(_TOO_DEEP)
        inner = parents | {id(value)}
        stack.extend((child, inner) for child in children if isinstance(child, (dict, list)))


def load_yaml(path: Path) -> Any:
    """The parsed YAML file, after the size and expansion checks (:class:`YamlBoundsError` otherwise)."""
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise YamlBoundsError(
            f"the file is {size / 1024 / 1024:.1f} MiB; a spec YAML may be at most {MAX_YAML_BYTES // 1024} KiB "
            "(keep test rows in .csv/.json fixture files)"
        )
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~5x faster
    with path.open("rb") as handle:
        try:
            data = yaml.load(handle, Loader=loader)  # noqa: S506 - a SafeLoader
        except RecursionError as err:
            raise YamlBoundsError(_TOO_DEEP) from err
    if isinstance(data, (dict, list)):
        _count_values(data)
    return data


def load_yaml_text(text: str) -> Any:
    """YAML given as text (a CLI option file), with the same bounds as a spec file."""
    if len(text.encode()) > MAX_YAML_BYTES:
        raise YamlBoundsError(f"the document is larger than {MAX_YAML_BYTES // 1024} KiB")
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a SafeLoader
    if isinstance(data, (dict, list)):
        _count_values(data)
    return data
