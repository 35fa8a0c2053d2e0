"""Rows per table in the job summary, on a real 3-table join with aggregation, against counts computed
here from the input and output files (not from anything Flink reports)."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import RunDag, read_output, xcom_value

from airflow_provider_flinkbatch.jobs import NOT_COUNTED_CHAINED, JobSummary, complete_summary, summarize_job

RECORDED = json.loads((Path(__file__).parent / "data" / "flink-2.3-join-job.json").read_text())


def test_rows_per_table_from_a_recorded_join_with_broadcast_inputs_at_parallelism_2() -> None:
    """Real Flink 2.3 JSON (see the file's _source): the orders scans run inside MultipleInput vertices of
    parallelism 2 that also receive customers (and products) broadcast, i.e. twice."""
    summary = summarize_job(RECORDED["details"])
    assert [(c.table, c.rows, c.scans) for c in summary.sources] == [
        ("customers", 200, 1),
        ("orders", 800_000, 2),  # 400,000 rows, scanned by both INSERTs
        ("products", 50, 1),
    ]
    assert summary.records_read == 800_250
    # without the runner's counters, the sinks chained after a join / an aggregation are not counted
    assert [(c.rows, c.note) for c in summary.sinks] == [(None, NOT_COUNTED_CHAINED)] * 2
    assert summary.records_written is None
    done = JobSummary.model_validate(
        complete_summary(summary.model_dump(), ["revenue", "big_orders"], RECORDED["accumulators"])
    )
    assert [(c.table, c.rows) for c in done.sinks] == [("revenue", 35), ("big_orders", 70_129)]
    assert done.finished_line().endswith(
        "800,250 records read, 70,164 records written; per table: customers 200, orders 800,000 (2 scans), "
        "products 50 read; revenue 35, big_orders 70,129 written"
    )


def test_without_the_stream_graph_nothing_is_guessed() -> None:
    details = {key: value for key, value in RECORDED["details"].items() if key != "stream-graph"}
    summary = summarize_job(details)
    assert summary.sources == [] and summary.records_read is None and summary.records_written is None
    assert "records read not reported by Flink, records written not reported by Flink" in summary.finished_line()


def _write_inputs(data_dir: Path) -> dict[str, list[list[str]]]:
    """Customers, products and orders (two files; some orders reference unknown customers/products)."""
    rng = random.Random(23)
    customers = [[str(i), rng.choice(["DE", "FR", "US", "IT"])] for i in range(1, 41)]
    products = [[str(i), f"cat{i % 5}"] for i in range(1, 13)]
    orders = [
        [str(i), str(rng.randint(1, 45)), str(rng.randint(1, 14)), f"{rng.randint(1, 499)}.{rng.randint(0, 99):02d}"]
        for i in range(1, 701)
    ]
    tables = {"customers": customers, "products": products, "orders": orders}
    for name, rows in tables.items():
        folder = data_dir / "input" / name
        folder.mkdir(parents=True)
        halves = [rows] if name != "orders" else [rows[:300], rows[300:]]
        for index, part in enumerate(halves):
            (folder / f"part-{index}.csv").write_text("".join(",".join(row) + "\n" for row in part))
    return tables


def _lines(folder: Path) -> int:
    return sum(len(path.read_text().splitlines()) for path in folder.iterdir())


@pytest.mark.integration
def test_rows_per_source_table_and_per_sink_on_a_three_table_join(
    run_dag: RunDag, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    tables = _write_inputs(data_dir)
    country = dict(tables["customers"])
    category = dict(tables["products"])
    joined = [o for o in tables["orders"] if o[1] in country and o[2] in category]
    expected_revenue = {(country[o[1]], category[o[2]]) for o in joined}
    expected_big = [o for o in tables["orders"] if o[1] in country and Decimal(o[3]) >= 400]

    dag_run, tis = run_dag("it_join_counts")
    assert tis["join"].state == "success"
    # the job did what the SQL says (counted here from the files)
    assert len(read_output(data_dir / "output" / "revenue")) == len(expected_revenue)
    assert len(read_output(data_dir / "output" / "big_orders")) == len(expected_big)

    summary = xcom_value(dag_run, "join")
    vertex_names = [v["name"] for v in summary["vertices"]]
    assert any(name.startswith("MultipleInput") for name in vertex_names)  # scans fused into join vertices
    read = {count["table"]: count for count in summary["sources"]}
    assert set(read) == {"customers", "products", "orders"}
    for table, rows in tables.items():  # each scan reads the whole table; orders is scanned once per INSERT
        files = _lines(data_dir / "input" / table)
        assert files == len(rows)
        assert read[table]["rows"] == files * read[table]["scans"], (table, read[table])
    assert read["orders"]["scans"] == 2
    assert summary["records_read"] == sum(count["rows"] for count in summary["sources"])

    # rows written per sink (the runner's counters), against the rows in the output files
    written = {count["table"]: count["rows"] for count in summary["sinks"]}
    assert written == {
        "revenue": _lines(data_dir / "output" / "revenue"),
        "big_orders": _lines(data_dir / "output" / "big_orders"),
    }
    assert written == {"revenue": len(expected_revenue), "big_orders": len(expected_big)}
    assert summary["records_written"] == len(expected_revenue) + len(expected_big)
    assert xcom_value(dag_run, "join", "flink_metrics")["sinks"] == summary["sinks"]

    log = capfd.readouterr().out
    line = next(line for line in log.splitlines() if "FINISHED in" in line)
    assert (
        f"{summary['records_read']:,} records read, {summary['records_written']:,} records written; per table: "
        f"customers {len(tables['customers'])}, orders {len(tables['orders']) * 2:,} (2 scans), "
        f"products {len(tables['products'])} read; revenue {len(expected_revenue)}, big_orders {len(expected_big)} "
        "written"
    ) in line, line
