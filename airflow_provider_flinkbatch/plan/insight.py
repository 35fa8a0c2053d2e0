"""Read Flink's optimized plan: per source table, which columns, filters and partitions the scan took.

Pure parsing of ``StatementSet.explain()`` text plus the table metadata the runner prints, so it is
tested on real plans without a JVM in the loop. What the optimizer pushed shows in each scan node::

    TableSourceScan(table=[[cat, db, wide, partitions=[{dt=2026-11-01}], filter=[>(amount, 5)],
        project=[name, amount, addr], metadata=[]]], fields=[name, amount, addr])

``project=`` missing means the source read every column; ``partitions=`` missing on a partitioned
table means every partition was read. The node above the scan (usually a ``Calc``) shows what the
query still needs: the columns it references and the filter left to evaluate.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

PLAN_SECTION = "== Optimized Physical Plan =="
_NODE = re.compile(r"^(?P<op>[A-Za-z]+)\((?P<args>.*)\)$")
_SCAN_TABLE = re.compile(r"table=\[\[(?P<body>.*?)\]\](?:, |\)|$)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*")

#: A table with at least this many columns is "wide": reading all of it for a few columns is flagged.
WIDE_TABLE_COLUMNS = 10
#: A ROW column with at least this many fields is a "wide struct": reading it whole for a few is flagged.
WIDE_STRUCT_FIELDS = 4


class PlanNode(BaseModel):
    operator: str
    args: str
    depth: int
    parent: int | None = None


class ScanInsight(BaseModel):
    """What one scan of a source table read, and what the optimizer managed to push into it."""

    table: str
    columns_total: int | None = None
    columns_read: list[str]
    projection_pushed: bool
    columns_used: list[str]
    nested_fields_used: list[str] = []
    #: ``row.field`` paths the scan itself narrowed to (sources with nested projection pushdown)
    nested_fields_pushed: list[str] = []
    #: ROW columns the scan reads whole although the query uses only some of their fields: ``{column: [used]}``
    structs_read_in_full: dict[str, list[str]] = {}
    struct_widths: dict[str, int] = {}
    pushed_filters: list[str] = []
    remaining_filter: str | None = None
    partition_keys: list[str] = []
    partitions_read: list[str] | None = None  # None: not partitioned, or every partition
    warnings: list[str] = []


class PlanInsight(BaseModel):
    plan: str
    scans: list[ScanInsight]

    @property
    def warnings(self) -> list[str]:
        return [warning for scan in self.scans for warning in scan.warnings]

    def describe(self) -> str:
        """The report shown in the task log and by ``flinkbatch explain``."""
        lines = []
        for scan in self.scans:
            total = f"{len(scan.columns_read)}/{scan.columns_total}" if scan.columns_total else len(scan.columns_read)
            how = "projection pushed down" if scan.projection_pushed else "no projection pushdown"
            lines.append(f"scan {scan.table}: reads {total} columns ({how}): {', '.join(scan.columns_read)}")
            if scan.nested_fields_used:
                lines.append(f"  nested fields used: {', '.join(scan.nested_fields_used)}")
                pushed = ", ".join(scan.nested_fields_pushed) or "none (whole ROW columns are read)"
                lines.append(f"  nested fields pushed into the scan: {pushed}")
            lines.append(f"  filters pushed into the scan: {'; '.join(scan.pushed_filters) or 'none'}")
            if scan.remaining_filter:
                lines.append(f"  filter evaluated after the scan: {scan.remaining_filter}")
            if scan.partition_keys:
                parts = "all" if scan.partitions_read is None else ", ".join(scan.partitions_read)
                lines.append(f"  partitions ({', '.join(scan.partition_keys)}) read: {parts}")
            lines.extend(f"  WARNING: {warning}" for warning in scan.warnings)
        return "\n".join(lines) or "no table scans in the plan"


def optimized_plan(explain_output: str) -> str:
    """The ``Optimized Physical Plan`` section of ``explain()`` output."""
    start = explain_output.find(PLAN_SECTION)
    if start < 0:
        raise ValueError("no 'Optimized Physical Plan' section in the EXPLAIN output")
    rest = explain_output[start + len(PLAN_SECTION) :]
    end = rest.find("\n== ")
    return (rest if end < 0 else rest[:end]).strip("\n")


def parse_nodes(plan: str) -> list[PlanNode]:
    """One node per line, with its parent (the nearest line above that is less indented)."""
    nodes: list[PlanNode] = []
    stack: list[int] = []
    for line in plan.splitlines():
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" :+-|"))
        match = _NODE.match(line[depth:].strip())
        if not match:
            continue
        while stack and nodes[stack[-1]].depth >= depth:
            stack.pop()
        nodes.append(
            PlanNode(operator=match["op"], args=match["args"], depth=depth, parent=stack[-1] if stack else None)
        )
        stack.append(len(nodes) - 1)
    return nodes


def _bracketed(args: str, name: str) -> str | None:
    """The text of ``name=[...]`` in a node's arguments, brackets balanced."""
    start = args.find(f"{name}=[")
    if start < 0:
        return None
    i = start + len(name) + 2
    depth, begin = 1, i
    while i < len(args) and depth:
        depth += {"[": 1, "]": -1}.get(args[i], 0)
        i += 1
    return args[begin : i - 1]


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets/parentheses/quotes."""
    parts, depth, quote, current = [], 0, False, ""
    for char in text:
        if char == "'":
            quote = not quote
        elif not quote and char in "([{":
            depth += 1
        elif not quote and char in ")]}":
            depth -= 1
        if char == "," and depth == 0 and not quote:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _references(expression: str, fields: list[str]) -> tuple[set[str], set[str], set[str]]:
    """Columns, ``row.field`` paths, and columns used whole, of ``fields`` an expression mentions (string
    literals ignored)."""
    text = re.sub(r"'(?:[^']|'')*'", "", expression)
    columns, nested, whole = set(), set(), set()
    for ident in _IDENT.findall(text):
        head = ident.split(".", 1)[0]
        if head in fields:
            columns.add(head)
            if "." in ident:
                nested.add(ident)
            else:
                whole.add(head)
    return columns, nested, whole


def _row_width(kind: str) -> int:
    """Number of top-level fields of a ``ROW<...>`` type (0 for other types)."""
    text = kind.strip()
    if not text.upper().startswith("ROW<") or ">" not in text:
        return 0
    inner = text[4 : text.rindex(">")]
    return len(_split_top(inner.replace("<", "(").replace(">", ")")))


def scan_insights(plan: str, tables: dict[str, Any], wide_table_columns: int = WIDE_TABLE_COLUMNS) -> list[ScanInsight]:
    nodes = parse_nodes(plan)
    insights = []
    for node in nodes:
        if node.operator != "TableSourceScan":
            continue
        table_spec = _SCAN_TABLE.search(node.args)
        body = table_spec["body"] if table_spec else ""
        path_parts = [part for part in _split_top(body) if "=" not in part]
        table = path_parts[-1] if path_parts else "?"
        fields = _split_top(_bracketed(node.args.split("]]", 1)[-1], "fields") or "")
        project = _bracketed(body, "project")
        pushed = _bracketed(body, "filter")
        partitions = _bracketed(body, "partitions")
        meta = tables.get(table) or {}
        all_columns = [column[0] for column in meta.get("columns", [])]
        partition_keys = list(meta.get("partition_keys", []))
        parent = nodes[node.parent] if node.parent is not None else None
        used, nested, whole, remaining = set(fields), set[str](), set(fields), None
        if parent is not None and parent.operator == "Calc":
            select = _bracketed(parent.args, "select") or ""
            remaining = _bracketed(parent.args, "where")
            used, nested, whole = _references(select + " " + (remaining or ""), fields)
        widths = {str(column[0]): _row_width(str(column[1])) for column in meta.get("columns", [])}
        in_full = {
            column: sorted(path for path in nested if path.split(".", 1)[0] == column)
            for column in fields
            if widths.get(column) and column not in whole and any(p.split(".", 1)[0] == column for p in nested)
        }
        insight = ScanInsight(
            table=table,
            columns_total=len(all_columns) or None,
            columns_read=fields,
            projection_pushed=project is not None,
            columns_used=[field for field in fields if field in used],
            nested_fields_used=sorted(nested),
            nested_fields_pushed=[part for part in _split_top(project or "") if "." in part],
            structs_read_in_full={
                column: paths
                for column, paths in in_full.items()
                if len({p.split(".")[1] for p in paths}) < widths[column]
            },
            struct_widths={column: width for column, width in widths.items() if width},
            pushed_filters=_split_top(pushed) if pushed else [],
            remaining_filter=remaining,
            partition_keys=partition_keys,
            partitions_read=[p.strip("{}") for p in _split_top(partitions)] if partitions is not None else None,
        )
        insight.warnings = _warnings(insight, wide_table_columns)
        insights.append(insight)
    return insights


def _warnings(scan: ScanInsight, wide_table_columns: int) -> list[str]:
    warnings = []
    total = scan.columns_total or len(scan.columns_read)
    if total >= wide_table_columns and len(scan.columns_read) >= total and len(scan.columns_used) < total:
        warnings.append(
            f"{scan.table}: the scan reads all {total} columns but the query uses {len(scan.columns_used)} "
            f"({', '.join(scan.columns_used) or 'none'}): the source did not take the projection; select fewer "
            "columns in a view or use a format/connector with projection pushdown"
        )
    for column, paths in scan.structs_read_in_full.items():
        width = scan.struct_widths.get(column, 0)
        if width >= WIDE_STRUCT_FIELDS:
            warnings.append(
                f"{scan.table}: the scan reads the whole struct {column} ({width} fields) but the query uses "
                f"{len(paths)} ({', '.join(paths)}): the source did not push the nested projection (Flink 2.3's "
                "filesystem source reads ROW columns whole, Parquet included); keep hot fields as top-level columns "
                "when writing the data, or accept the read with plan_check='warn'"
            )
    if scan.partition_keys and scan.partitions_read is None:
        keys_filtered = [key for key in scan.partition_keys if scan.remaining_filter and key in scan.remaining_filter]
        if keys_filtered:
            warnings.append(
                f"{scan.table}: the filter on partition column(s) {', '.join(keys_filtered)} was not pushed into "
                f"the scan, so every partition is read ({scan.remaining_filter}); compare the partition column "
                "with a constant, outside OR/function calls"
            )
        else:
            warnings.append(
                f"{scan.table}: no filter on partition column(s) {', '.join(scan.partition_keys)}: "
                "every partition is read"
            )
    return warnings


CheckMode = Literal["off", "warn", "fail"]
