"""A spec's assets when its DAG is parsed: the sources it reads (inlets), the sinks it writes (what another
spec's ``depends_on`` schedules on), and the ``sinks:`` that narrow or name the assets its runs emit.

Why render at parse time: spec SQL names tables through templates (``{{ params.data_dir }}/orders``), and a
schedule needs a fixed asset. The SQL is rendered for two logical dates; a table whose asset URI is the same
for both (a partition such as ``dt={{ ds }}`` or ``PARTITION (dt='{{ ds }}')`` is not part of the URI) has a
stable asset. A path that changes per run (``.../orders/{{ ds }}``) has none: name it in ``sinks:``
(``{table: orders, asset: "file:///warehouse/orders"}``) or make the date a ``dt=`` partition.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from airflow_provider_flinkbatch.assets import RENDER_ERRORS, SAMPLE_DATES, stable_uris
from airflow_provider_flinkbatch.lineage import JobLineage, job_lineage
from airflow_provider_flinkbatch.specs.effective import SpecRenderError, sql_text, template_context, template_env
from airflow_provider_flinkbatch.specs.load import SpecCache, file_stamp
from airflow_provider_flinkbatch.specs.model import JobSpec
from airflow_provider_flinkbatch.sql.statements import SqlScriptError, split_statements


class SpecAssetError(ValueError):
    """The assets of a spec another spec depends on cannot be known when the DAG is parsed."""


#: Airflow's sandboxed Jinja environment per template search path: building one costs ~25 ms (a DAG object),
#: rendering a spec's SQL < 1 ms, and a folder of specs shares one search path.
_ENVIRONMENTS: dict[tuple[str, ...], Any] = {}

#: ``{{ expression }}`` of a script (the expression inside, non-greedy as Jinja's lexer is for plain ones).
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)

#: Markup the expression path leaves to Jinja: blocks, comments, whitespace control, raw sections.
_NEEDS_JINJA = ("{%", "{#", "{{-", "-}}", "+}}")

#: (environment, expression) -> compiled expression. Near-identical specs use the same few expressions
#: (``params.data_dir``, ``ds``): compiling each once per folder instead of compiling every spec's whole
#: script is most of the cold parse time of a spec folder (~8 ms per script).
_COMPILED: dict[tuple[int, str], Callable[..., Any]] = {}


def _render(env: Any, text: str, contexts: list[dict[str, Any]]) -> list[str]:
    """``text`` rendered for each context, as the environment renders it. A script whose only markup is
    ``{{ expression }}`` (the usual spec SQL) has each expression evaluated by the same (sandboxed)
    environment, compiled once per folder; anything else is rendered by Jinja as a whole template."""
    pieces = _EXPRESSION.split(text)  # odd indices: the expressions
    unclosed = any("{{" in piece for piece in pieces[0::2])
    if unclosed or any(marker in text for marker in _NEEDS_JINJA) or env.finalize is not None:
        return _render_whole(env, text, contexts)
    try:
        compiled = [_expression(env, piece) for piece in pieces[1::2]]
    except jinja2.TemplateSyntaxError:
        return _render_whole(env, text, contexts)  # Jinja reports it with the script's line
    rendered = []
    for context in contexts:
        values = iter(str(evaluate(**context)) for evaluate in compiled)
        rendered.append("".join(piece if index % 2 == 0 else next(values) for index, piece in enumerate(pieces)))
    return rendered


def _expression(env: Any, source: str) -> Callable[..., Any]:
    key = (id(env), source)
    if key not in _COMPILED:
        # undefined names stay Undefined, so a strict environment raises on them when rendered, as Jinja does
        _COMPILED[key] = env.compile_expression(source, undefined_to_none=False)
    return _COMPILED[key]


def _render_whole(env: Any, text: str, contexts: list[dict[str, Any]]) -> list[str]:
    template = env.from_string(text)
    return [template.render(context) for context in contexts]


def _lineage(spec: JobSpec) -> list[JobLineage]:
    """The script's lineage for each of the two logical dates (raises SpecRenderError/SqlScriptError)."""
    text = sql_text(spec)
    if "{{" not in text and "{%" not in text:
        return [job_lineage(split_statements(text))]
    key = (str(spec.folder),)
    if key not in _ENVIRONMENTS:
        _ENVIRONMENTS[key] = template_env(spec)
    try:
        contexts = [template_context(spec, logical_date) for logical_date in SAMPLE_DATES]
        rendered = _render(_ENVIRONMENTS[key], text, contexts)
    except RENDER_ERRORS as err:
        # outside a run (e.g. a template reading dag_run.conf keys): the assets are unknown when parsing
        raise SpecRenderError(f"{spec.path.name}: sql: template does not render: {err}") from err
    return [job_lineage(split_statements(script)) for script in rendered]


class SpecAssets:
    """The stable source and sink assets of specs, cached on disk beside the spec cache (rendering a spec's SQL
    twice costs ~3 ms; a cached answer a few stats) while the spec, its defaults and its SQL files are unchanged."""

    def __init__(self, root: Path | None = None) -> None:
        self._cache = SpecCache(root, "assets") if root is not None else None
        self._used: set[str] = set()

    def _stamp(self, spec: JobSpec) -> list[Any] | None:
        # Only stat'ed (sql_text confines the files it reads): no realpath per file on the warm path.
        try:
            return [
                file_stamp(path) for path in (spec.path, *spec.defaults_files, *(spec.folder / n for n in spec.sql))
            ]
        except OSError:
            return None  # the DAG build reports the missing file

    def tables(self, spec: JobSpec) -> dict[str, dict[str, str | None]]:
        """``{"inputs": {table: uri | None}, "outputs": {...}}`` (``None``: changes per run); raises
        :class:`SpecRenderError` when the SQL does not render outside a run."""
        key, stamp = str(spec.path), self._stamp(spec)
        self._used.add(key)
        value = self._cache.get(key, stamp) if self._cache is not None and stamp is not None else None
        if value is None:
            try:
                renderings = _lineage(spec)
                value = {
                    "inputs": stable_uris([lineage.inputs for lineage in renderings]),
                    "outputs": stable_uris([lineage.outputs for lineage in renderings]),
                }
            except (SpecRenderError, SqlScriptError) as err:
                value = {"error": str(err)}
            if self._cache is not None and stamp is not None:
                self._cache.put(key, stamp, value)
        if "error" in value:
            raise SpecRenderError(value["error"])
        return value

    def save(self) -> None:
        if self._cache is not None:
            self._cache.save(self._used)

    def source_uris(self, spec: JobSpec) -> list[str]:
        """Inlets: asset URIs of the sources whose location does not change per run; ``[]`` if the SQL does
        not render outside a run (the task still logs what it read, and the OpenLineage inputs have it)."""
        try:
            return [uri for uri in self.tables(spec)["inputs"].values() if uri]
        except SpecRenderError:
            return []

    def upstream_uris(self, upstream: JobSpec) -> list[str]:
        """What a DAG depending on ``upstream`` from another DAG is scheduled on: the assets ``upstream``'s runs
        emit (its ``sinks:`` where given). Raises :class:`SpecAssetError` naming the tables when they cannot
        be known now."""
        where = f"depends_on {upstream.name!r} (DAG {upstream.dag_id!r})"
        named = {ref.table.lower(): ref.asset for ref in upstream.sinks}
        if named and all(named.values()):
            return list(dict.fromkeys(uri for uri in named.values() if uri))
        try:
            stable = self.tables(upstream)["outputs"]
        except SpecRenderError as err:
            raise SpecAssetError(f"{where}: its SQL does not render, so its assets are unknown: {err}") from err
        if named:
            stable = {table: named[table] or stable.get(table) for table in named}
        changing = sorted(table for table, uri in stable.items() if uri is None)
        uris = [uri for uri in stable.values() if uri]
        if changing or not uris:
            tables = ", ".join(changing) or "no data table"
            raise SpecAssetError(
                f"{where}: it writes {tables} at a location that changes per run (or none), so no asset can "
                f"schedule this DAG; in {upstream.path.name} make the date a partition (path '.../dt={{{{ ds }}}}' "
                "or INSERT ... PARTITION (dt='{{ ds }}')) or name the asset: sinks: [{table: <table>, asset: <uri>}]"
            )
        return list(dict.fromkeys(uris))
