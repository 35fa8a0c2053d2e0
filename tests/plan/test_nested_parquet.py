"""Plan insight on real Parquet with a nested ROW column, written by Flink on the local cluster.

What Flink 2.3 does here (the expectations): the filesystem source prunes partitions for ``dt = 'const'``,
pushes top-level projection, but reads a ROW column whole even when the query uses one field of it (and a
table declared with a narrower ROW type fails at read time: "Unexpected type: BINARY"). ``--check fail``
(plan_check="fail") fails the wide nested read and the unpushed partition filter, not the good query.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import make_request

from airflow_provider_flinkbatch.cli import main
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.specs.testing import SpecTestRunner

pytestmark = pytest.mark.integration

STRUCT = "ROW<name STRING, city STRING, age INT, bio STRING>"


def events_table(path: Path, name: str = "events") -> str:
    return (
        f"CREATE TEMPORARY TABLE {name} (id BIGINT, user_info {STRUCT}, amount DOUBLE, dt STRING) PARTITIONED BY (dt) "
        f"WITH ('connector' = 'filesystem', 'path' = '{path.as_uri()}', 'format' = 'parquet');"
    )


@pytest.fixture(scope="module")
def parquet_events(flink_cluster: LocalClusterInfo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 rows in two dt partitions, written by a Flink job as Parquet."""
    path = tmp_path_factory.mktemp("nested") / "events"
    sql = f"""{events_table(path)}
CREATE TEMPORARY TABLE gen (id BIGINT, name STRING, city STRING, age INT, bio STRING, amount DOUBLE) WITH (
  'connector' = 'datagen', 'number-of-rows' = '40', 'fields.id.kind' = 'sequence', 'fields.id.start' = '1',
  'fields.id.end' = '40', 'fields.bio.length' = '50');
INSERT INTO events SELECT id, ROW(name, city, age, bio), amount,
  CASE WHEN MOD(id, 2) = 0 THEN '2026-11-01' ELSE '2026-11-02' END FROM gen;"""
    target = SpecTestRunner(flink_cluster.rest_url).target()
    handle = target.submit(make_request(sql, "write-nested-parquet"))
    while (state := target.job_details(handle)["state"]) not in ("FINISHED", "FAILED", "CANCELED"):
        time.sleep(0.3)
    assert state == "FINISHED"
    assert sorted(p.name for p in path.iterdir() if not p.name.startswith(".")) == ["dt=2026-11-01", "dt=2026-11-02"]
    return path


def test_nested_reads_and_partition_filters_on_real_parquet(
    parquet_events: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "job.sql"
    script.write_text(
        "\n".join(events_table(parquet_events, name) for name in ("good", "nested", "unpruned"))
        + """
CREATE TEMPORARY TABLE out_good (id BIGINT, amount DOUBLE) WITH ('connector' = 'blackhole');
CREATE TEMPORARY TABLE out_nested (id BIGINT, city STRING) WITH ('connector' = 'blackhole');
CREATE TEMPORARY TABLE out_unpruned (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO out_good SELECT id, amount FROM good WHERE dt = '2026-11-01';
INSERT INTO out_nested SELECT id, user_info.city FROM nested WHERE dt = '2026-11-01';
INSERT INTO out_unpruned SELECT id FROM unpruned WHERE dt = '2026-11-01' OR id < 0;
"""
    )
    assert main(["explain", str(script), "--json", "--check", "fail"]) == 4
    scans = {scan["table"]: scan for scan in json.loads(capsys.readouterr().out)["scans"]}

    good = scans["good"]
    assert (good["columns_read"], good["partitions_read"], good["warnings"]) == (
        ["id", "amount"],
        ["dt=2026-11-01"],
        [],
    )

    nested = scans["nested"]
    assert nested["columns_read"] == ["id", "user_info"]  # the whole struct: no nested projection pushdown
    assert (nested["nested_fields_used"], nested["nested_fields_pushed"]) == (["user_info.city"], [])
    assert nested["partitions_read"] == ["dt=2026-11-01"]
    assert nested["warnings"] == [
        "nested: the scan reads the whole struct user_info (4 fields) but the query uses 1 (user_info.city): the "
        "source did not push the nested projection (Flink 2.3's filesystem source reads ROW columns whole, Parquet "
        "included); keep hot fields as top-level columns when writing the data, or accept the read with "
        "plan_check='warn'"
    ]

    unpruned = scans["unpruned"]
    assert unpruned["partitions_read"] is None
    assert [w.split(" was not pushed")[0] for w in unpruned["warnings"]] == [
        "unpruned: the filter on partition column(s) dt"
    ]


def test_a_parquet_source_folder_without_files_fails_before_submission(
    flink_cluster: LocalClusterInfo, tmp_path: Path
) -> None:
    from airflow_provider_flinkbatch.targets.base import SubmissionRejected

    empty = tmp_path / "events"
    (empty / "dt=2026-11-01").mkdir(parents=True)
    sql = (
        f"{events_table(empty)}\nCREATE TEMPORARY TABLE out1 (id BIGINT) WITH ('connector' = 'blackhole');\n"
        "INSERT INTO out1 SELECT id FROM events;"
    )
    target = SpecTestRunner(flink_cluster.rest_url).target()
    with pytest.raises(SubmissionRejected, match=r"table events: 'path' = 'file://.*/events' has no parquet files"):
        target.submit(make_request(sql, "empty-parquet"))
