"""Spec problems as one line each: ``<file>: <field path>: <what is wrong and the fix>``.

Pydantic's own messages ("Input should be a valid integer, unable to parse string as an integer")
are correct but long and generic; platform users fixing one of 200 specs need the expected type and
what they wrote, e.g. ``jobs/clicks.yaml: flink_config.parallelism.default: expected int, got 'eight'``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecError:
    """One problem in one file; ``loc`` is the field path inside the YAML (empty: the file itself)."""

    file: str
    loc: Loc
    message: str

    def __str__(self) -> str:
        where = format_loc(self.loc)
        return f"{self.file}: {where}: {self.message}" if where else f"{self.file}: {self.message}"


class SpecValidationError(ValueError):
    """One or more specs are invalid; ``errors`` holds each problem, ``str()`` lists them one per line."""

    def __init__(self, errors: Sequence[SpecError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


def format_loc(loc: Iterable[str | int]) -> str:
    """``("tests", 0, "inputs", "clicks")`` -> ``tests[0].inputs.clicks``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_NAMES = {
    "int": "int",
    "float": "number",
    "bool": "true or false",
    "string": "a string",
    "list": "a list",
    "dict": "a mapping (key: value)",
    "date": "a date like 2026-01-01",
    "datetime": "a date-time like 2026-01-01T00:00:00",
    "model": "a mapping (key: value)",
}


def _expected(error_type: str) -> str | None:
    kind = error_type.rsplit("_", 1)[0]  # int_parsing -> int, bool_type -> bool, model_type -> model
    return _TYPE_NAMES.get(kind)


def message_for(error: dict[str, Any], known_fields: Sequence[str] = ()) -> str:
    """One pydantic error -> what was expected, what was given, and the fix where there is one."""
    kind = str(error["type"])
    given = error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        field = str(error["loc"][-1]) if error.get("loc") else ""
        close = difflib.get_close_matches(field, known_fields, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(known_fields)}"
        return f"unknown field; {hint}"
    if kind == "literal_error":
        choices = (error.get("ctx") or {}).get("expected", "")
        return f"expected one of {choices}, got {_shown(given)}"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        ctx = error.get("ctx") or {}
        sign = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = next(iter(ctx.values()), "")
        return f"expected a number {sign} {bound}, got {_shown(given)}"
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    expected = _expected(kind)
    if expected:
        return f"expected {expected}, got {_shown(given)}"
    return f"{error['msg']}, got {_shown(given)}"


def _fields_at(model: Any, loc: Loc) -> list[str]:
    """Field names of the (nested) model at ``loc``, for "did you mean" hints on unknown keys."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    """The pydantic model inside ``list[Model]``, ``dict[str, Model]``, ``Annotated[Model, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def from_validation_error(file: str, err: Any, model: Any, origin: Any = None) -> list[SpecError]:
    """A pydantic ``ValidationError`` -> SpecErrors; ``origin(loc)`` names the file that set the field."""
    errors = []
    for item in err.errors():
        loc = tuple(item["loc"])
        where = origin(loc) if origin is not None else file
        errors.append(SpecError(where, loc, message_for(item, _fields_at(model, loc))))
    return errors


def relative(path: Path, root: Path | None) -> str:
    """Paths in messages are relative to the folder the user pointed at (shorter, stable in tests)."""
    if root is not None:
        shown = os.path.relpath(path, root.parent) if path.is_absolute() and root.is_absolute() else None
        if shown is not None and not shown.startswith(".."):
            return Path(shown).as_posix()
    return str(path)
