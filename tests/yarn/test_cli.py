"""The Flink CLI invocation: exact argv for YARN application mode, and the REAL Flink 2.3 CliFrontend
(from the same jars) running that argv against the local session cluster with ``-t remote``."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
import requests
from real_yarn import rm_url

from airflow_provider_flinkbatch.distribution import find_flink_distribution
from airflow_provider_flinkbatch.identity import JobIdentity, fingerprint
from airflow_provider_flinkbatch.local import LocalClusterInfo
from airflow_provider_flinkbatch.local.config import JAVA_17_OPTS
from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
from airflow_provider_flinkbatch.rest.client import RetryPolicy
from airflow_provider_flinkbatch.runner import RUNNER_MAIN_CLASS, RunnerJar
from airflow_provider_flinkbatch.sql.statements import split_statements
from airflow_provider_flinkbatch.targets.base import JobRequest, SubmissionRejected
from airflow_provider_flinkbatch.yarn.cli import parse_application_id, parse_job_id, run_cli
from airflow_provider_flinkbatch.yarn.client import YarnRmClient
from airflow_provider_flinkbatch.yarn.options import YarnTargetOptions
from airflow_provider_flinkbatch.yarn.settings import YarnConnectionSettings
from airflow_provider_flinkbatch.yarn.target import YarnTarget

SQL = """
CREATE TEMPORARY TABLE src (id BIGINT) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TEMPORARY TABLE out_table (id BIGINT) WITH ('connector' = 'filesystem', 'path' = '{out}', 'format' = 'csv');
INSERT INTO out_table SELECT id FROM src;
"""


def sample_request(sql: str, run_id: str = "scheduled__2026-11-25T00:00:00+00:00") -> JobRequest:
    statements = split_statements(sql)
    config = {"parallelism.default": "1"}
    identity = JobIdentity(
        dag_id="sales",
        task_id="daily_totals",
        run_id=run_id,
        fingerprint=fingerprint(statements, {**config, "pipeline.name": "sales.daily_totals"}),
    )
    return JobRequest(statements=statements, flink_config=config, job_name="sales.daily_totals", identity=identity)


def target_for(
    flink_cli: str, options: YarnTargetOptions, jar: str, rm_urls: list[str] | None = None, **settings: object
) -> YarnTarget:
    conn = YarnConnectionSettings(
        rm_urls=rm_urls or ["http://rm1:8088", "http://rm2:8088"],
        flink_cli=flink_cli,
        **settings,  # type: ignore[arg-type]
    )
    return YarnTarget(conn, options, YarnRmClient(conn), RetryPolicy(budget=1.0), runner_jar=jar)


def test_yarn_application_argv_is_a_list_with_identity_queue_memory_and_sql(tmp_path: Path) -> None:
    flink = tmp_path / "bin" / "flink"
    flink.parent.mkdir()
    flink.write_text("#!/bin/sh\n")
    flink.chmod(0o755)
    options = YarnTargetOptions(
        queue="root.etl",
        jobmanager_memory="1600m",
        taskmanager_memory="4g",
        taskmanager_slots=2,
        tags=["Team-Sales"],
        flink_config={"yarn.ship-files": "/etc/flink/udfs"},
    )
    target = target_for(
        str(flink),
        options,
        "/opt/flinkbatch/runner.jar",
        flink_config={"yarn.provided.lib.dirs": "hdfs:///flink/lib"},
        kerberos_principal="etl@EXAMPLE.COM",
        kerberos_keytab="/etc/keytabs/etl.keytab",
    )
    request = sample_request("INSERT INTO t SELECT 'a;b', \"x\" FROM s")
    argv = target.build_argv(request)
    print("\nargv:", argv)  # the sample for the docs / resolve note

    key, job_id, fp = request.identity.key, request.job_id, request.identity.fingerprint
    assert argv[:5] == [str(flink), "run", "-t", "yarn-application", "-d"]
    pairs = dict(argv[i + 1].split("=", 1) for i in range(len(argv)) if argv[i] == "-D")
    assert pairs == {
        "yarn.provided.lib.dirs": "hdfs:///flink/lib",
        "execution.runtime-mode": "BATCH",
        "parallelism.default": "1",
        "pipeline.name": "sales.daily_totals",
        "pipeline.global-job-parameters": f"airflow.identity:{key},airflow.fingerprint:{fp},airflow.attempt:0,"
        "airflow.dag_id:sales,airflow.task_id:daily_totals,airflow.deployment:default",
        "yarn.ship-files": "/etc/flink/udfs",
        "security.kerberos.login.principal": "etl@EXAMPLE.COM",
        "security.kerberos.login.keytab": "/etc/keytabs/etl.keytab",
        "security.kerberos.login.use-ticket-cache": "false",
        "yarn.application.queue": "root.etl",
        "jobmanager.memory.process.size": "1600m",
        "taskmanager.memory.process.size": "4g",
        "taskmanager.numberOfTaskSlots": "2",
        "yarn.application.name": "sales.daily_totals",
        "yarn.tags": f"flinkbatch,flinkbatch-id-{key},flinkbatch-job-{job_id},flinkbatch-fp-{fp},team-sales",
        "$internal.pipeline.job-id": job_id,
    }
    tail = argv[argv.index("-c") :]
    statement = base64.b64encode(b"INSERT INTO t SELECT 'a;b', \"x\" FROM s").decode()
    assert tail == ["-c", RUNNER_MAIN_CLASS, "/opt/flinkbatch/runner.jar", "--statement-b64", statement]
    tags = pairs["yarn.tags"].split(",")
    assert len(tags) <= 10 and all(len(t) <= 100 and t == t.lower() for t in tags)


def test_application_id_is_read_from_the_cli_log_lines() -> None:
    output = (
        "2026-11-25 19:00:01,123 INFO  org.apache.flink.yarn.YarnClusterDescriptor [] - Submitting application "
        "master application_1764097200000_0042\n"
        "2026-11-25 19:00:01,456 INFO  org.apache.hadoop.yarn.client.api.impl.YarnClientImpl [] - Submitted "
        "application application_1764097200000_0042\n"
    )
    assert parse_application_id(output) == "application_1764097200000_0042"
    assert parse_application_id("Found Web Interface rm:1 of application 'application_1_0002'.") == (
        "application_1_0002"
    )
    assert parse_application_id("nothing deployed") is None


def _real_flink_cli(tmp_path: Path) -> Path:
    """A ``bin/flink`` that runs Flink 2.3's real CliFrontend from the same jars as the local cluster."""
    distribution = find_flink_distribution()
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "config.yaml").write_text("")
    script = tmp_path / "flink" / "bin" / "flink"
    script.parent.mkdir(parents=True)
    opts = " ".join(JAVA_17_OPTS)
    script.write_text(
        "#!/bin/sh\n"
        f'export FLINK_CONF_DIR="{conf}"\n'
        f'exec java -Xmx512m {opts} -cp "{distribution.classpath()}" org.apache.flink.client.cli.CliFrontend "$@"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.integration
def test_real_flink_cli_runs_the_argv_with_its_job_id_name_and_identity(
    flink_cluster: LocalClusterInfo, runner_jar: RunnerJar, tmp_path: Path
) -> None:
    """Same argv as for YARN but ``-t remote``: the real CLI accepts every option, the job runs under
    the deterministic id and name, and the identity arrives as global job parameters."""
    host, port = flink_cluster.rest_url.removeprefix("http://").rsplit(":", 1)
    options = YarnTargetOptions(flink_config={"rest.address": host, "rest.port": port}, queue="etl")
    target = target_for(str(_real_flink_cli(tmp_path)), options, str(runner_jar.path))
    out = tmp_path / "out"
    request = sample_request(SQL.format(out=out), run_id=f"manual__{os.getpid()}_{tmp_path.name}")

    result = run_cli(target.build_argv(request, deployment_target="remote"), os.environ, timeout=180)

    assert result.returncode == 0, result.tail
    assert parse_job_id(result.output) == request.job_id
    rest = flink_cluster.rest_url
    for _ in range(600):
        status = requests.get(f"{rest}/jobs/{request.job_id}/status", timeout=10).json()["status"]
        if status in ("FINISHED", "FAILED", "CANCELED"):
            break
        import time

        time.sleep(0.1)
    details = requests.get(f"{rest}/jobs/{request.job_id}", timeout=10).json()
    assert (details["name"], details["state"]) == ("sales.daily_totals", "FINISHED")
    user_config = requests.get(f"{rest}/jobs/{request.job_id}/config", timeout=10).json()["execution-config"]
    assert user_config["user-config"]["airflow.identity"] == request.identity.key
    assert user_config["user-config"]["airflow.task_id"] == "daily_totals"
    rows = [line for part in out.rglob("*") if part.is_file() for line in part.read_text().splitlines()]
    assert len(rows) == 10


@pytest.mark.integration
def test_real_flink_cli_accepts_the_yarn_application_argv_and_reports_missing_hadoop(
    runner_jar: RunnerJar, tmp_path: Path, local_yarn: LocalYarnCluster
) -> None:
    """Flink 2.3's CliFrontend parses the exact yarn-application argv (no unknown option or action) and
    stops only where YARN starts: without Hadoop on the classpath. The real RM has no application with
    the job's tag, so the task gets that message."""
    info = local_yarn.info()
    assert info is not None
    target = target_for(
        str(_real_flink_cli(tmp_path)),
        YarnTargetOptions(queue="etl"),
        str(runner_jar.path),
        rm_urls=[rm_url(local_yarn)],
        user=info.user,
    )
    request = sample_request(SQL.format(out=tmp_path / "out"))

    result = run_cli(target.build_argv(request), os.environ, timeout=120)
    assert result.returncode != 0
    assert "No ClusterClientFactory found" in result.output
    assert "Unrecognized option" not in result.output and "not a valid action" not in result.output

    with pytest.raises(SubmissionRejected, match=r"(?s)submitted no YARN application.*export the HADOOP_CLASSPATH"):
        target.submit(request)


def test_configured_yarn_tags_are_kept_and_the_limit_is_enforced(tmp_path: Path) -> None:
    flink = tmp_path / "flink"
    flink.write_text("#!/bin/sh\n")
    flink.chmod(0o755)
    request = sample_request("INSERT INTO t SELECT 1")
    options = YarnTargetOptions(tags=["a"], flink_config={"yarn.tags": "Cost-Center-7,b"})
    config = target_for(str(flink), options, "r.jar").application_config(request)
    assert config["yarn.tags"].split(",")[-3:] == ["a", "cost-center-7", "b"]

    crowded = YarnTargetOptions(tags=["a", "b", "c"], flink_config={"yarn.tags": "d,e,f,g"})
    with pytest.raises(ValueError, match=r"YARN allows 10 tags .* drop some from target_options tags"):
        target_for(str(flink), crowded, "r.jar").application_config(request)


def test_secret_config_values_never_reach_the_log_line() -> None:
    from airflow_provider_flinkbatch.yarn.cli import redact_argv

    argv = ["flink", "run", "-D", "s3.secret-key=hunter2", "-D", "pipeline.name=x", "-c", "M", "j.jar", "A" * 500]
    shown = redact_argv(argv, ["hunter2"])
    assert "-D" in shown and "s3.secret-key=***" in shown and "hunter2" not in " ".join(shown)
    assert shown[-1].endswith("...(500 chars)")
