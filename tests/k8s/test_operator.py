"""FlinkBatchSqlOperator(target="kubernetes") end to end: a DAG run creates a FlinkDeployment on the real
kube-apiserver, the operator emulator runs it on the real Flink cluster, the deferrable trigger follows
the resource's status, and the task reports the job's result (or root cause) like on a session cluster."""

from __future__ import annotations

import json
import time
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from conftest import RunDag, read_output, xcom_value
from k8s.apiserver import ApiServer
from k8s.conftest import resources
from k8s.emulator import OperatorEmulator

pytestmark = pytest.mark.integration


def ours(kube_api: ApiServer, job_id: str) -> list[dict[str, Any]]:
    return [r for r in resources(kube_api) if (r["metadata"].get("labels") or {}).get("flinkbatch/job-id") == job_id]


def test_success_runs_a_flinkdeployment_and_deletes_it_afterwards(
    k8s_dags: None,
    run_dag: RunDag,
    orders: Path,
    data_dir: Path,
    kube_api: ApiServer,
    operator_emulator: OperatorEmulator,
) -> None:
    dag_run, tis = run_dag("it_k8s_success")

    assert tis["revenue"].state == tis["revenue_blocking"].state == "success"
    assert read_output(data_dir / "k8s_big") == ["1", "4", "5"]
    assert read_output(data_dir / "k8s_revenue") == ["DE,2,200.75", "FR,1,35.0", "US,2,560.0"]
    summary = xcom_value(dag_run, "revenue")
    assert summary["state"] == "FINISHED" and summary["vertices_total"] >= 1  # from the JobManager's REST API
    # rows per table through the Kubernetes target too (the runner's counters, read after the resource is gone)
    assert [(c["table"], c["rows"]) for c in summary["sinks"]] == [("revenue", 3)]
    assert [(c["table"], c["rows"]) for c in xcom_value(dag_run, "revenue_blocking")["sinks"]] == [("big", 3)]
    info = xcom_value(dag_run, "revenue", key="flink_job")
    job_id = summary["job_id"]
    name = info["ref"].split("/")[1]
    assert info["ref"] == f"flink-jobs/{name}" and info["target"] == "kubernetes"
    assert info["web_ui_url"] == f"https://flink.example.com/flink-jobs/{name}/"
    assert info["history_server_url"]  # the flink connection's HistoryServer, for the HistoryServer link
    link = xcom_value(dag_run, "revenue", "_link_FlinkJobLink")
    assert link.startswith(f"https://flink.example.com/flink-jobs/{name}/") and job_id in link
    assert xcom_value(dag_run, "revenue", "_link_FlinkHistoryServerLink") == (
        f"{info['history_server_url']}/#/job/completed/{job_id}/overview"
    )
    # the emulated operator ran the deployment with the deterministic job id
    states = [state for plural, cr, jid, state in operator_emulator.history if cr == name]
    # (the facts' success path: CREATED, UPGRADING with the job id recorded, then DEPLOYED/RECONCILING...). The
    # task may read Flink's FINISHED from the JobManager and delete the resource before the operator, polling the
    # job on its own schedule, writes FINISHED: its last write is RUNNING or FINISHED.
    assert states[:3] == ["CREATED", "UPGRADING", "RECONCILING"] and states[-1] in ("RUNNING", "FINISHED"), states
    assert {jid for _, cr, jid, _ in operator_emulator.history if cr == name and jid} == {job_id}
    assert ours(kube_api, job_id) == []  # deleted after success
    print(f"K8S-E2E success: FlinkDeployment {name} job {job_id} states {states}")


def test_sql_failure_fails_with_the_root_cause_and_keeps_the_resource(
    k8s_dags: None,
    run_dag: RunDag,
    orders: Path,
    kube_api: ApiServer,
    operator_emulator: OperatorEmulator,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag_run, tis = run_dag("it_k8s_failure")

    assert tis["bad_cast"].state == "failed"
    log = capfd.readouterr().out
    failure = next(line for line in log.splitlines() if "AirflowFailException: Flink job" in line)
    assert "FAILED [user_data_error]" in failure
    assert "NumberFormatException: For input string: 'first'" in failure
    info = xcom_value(dag_run, "bad_cast", key="flink_job")
    # Kept for debugging, marked with when it ended. The operator writes FAILED once it has read the job result,
    # which may be after the task saw Flink's FAILED: give it a moment.
    deadline = time.monotonic() + 30
    while True:
        [resource] = ours(kube_api, info["job_id"])
        if resource["status"]["lifecycleState"] == "FAILED" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert resource["status"]["lifecycleState"] == "FAILED"
    assert resource["status"]["jobStatus"]["state"] == "FAILED"
    # The operator stores Flink's SerializedThrowable (messages without class names): the real class the user
    # saw above comes from Flink's exceptions, not from status.error.
    error = json.loads(resource["status"]["error"])
    assert error["type"] == "org.apache.flink.util.SerializedThrowable" and error["message"] != "Job failed"
    assert "flinkbatch/finished-at" in resource["metadata"]["annotations"]
    print(f"K8S-E2E failure: FlinkDeployment {resource['metadata']['name']} job {info['job_id']} FAILED: {failure}")


def test_rerun_of_a_succeeded_task_whose_resource_was_deleted_does_not_run_the_job_again(
    k8s_dags: None, run_dag: RunDag, orders: Path, kube_api: ApiServer, operator_emulator: OperatorEmulator
) -> None:
    """Success deletes the FlinkDeployment; the HistoryServer still proves the job FINISHED, so a re-run of
    the same task instance (or a retry after a worker died right after the delete) reports it instead."""
    from datetime import datetime

    when = datetime(2026, 3, 1, tzinfo=UTC)
    first_run, _ = run_dag("it_k8s_success", logical_date=when)
    job_id = xcom_value(first_run, "revenue")["job_id"]
    submissions = sum(1 for h in operator_emulator.history if h[2] == job_id and h[3] == "UPGRADING")
    assert submissions == 1 and ours(kube_api, job_id) == []

    second_run, tis = run_dag("it_k8s_success", logical_date=when)

    assert tis["revenue"].state == tis["revenue_blocking"].state == "success"
    assert xcom_value(second_run, "revenue")["job_id"] == job_id
    assert sum(1 for h in operator_emulator.history if h[2] == job_id and h[3] == "UPGRADING") == 1
    assert ours(kube_api, job_id) == []
