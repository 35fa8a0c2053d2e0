"""Test set-up: a private Airflow home (SQLite), and one real local Flink cluster per session.

Environment variables are set before anything imports Airflow, so the tests never touch a user's
``~/airflow`` and run in parallel with other work on the machine (the cluster picks free ports).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Test modules also ``from conftest import ...`` (a second import of this file under importlib mode): the
# private home must be made once per test process, or Airflow and its subprocesses would see two homes.
_HOME_MARKER = f"FLINKBATCH_TEST_AIRFLOW_HOME_{os.getpid()}"
if _HOME_MARKER not in os.environ:
    os.environ[_HOME_MARKER] = tempfile.mkdtemp(prefix="flinkbatch-airflow-home-")
_AIRFLOW_HOME = Path(os.environ[_HOME_MARKER])
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
_ROOT = Path(__file__).resolve().parents[1]
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_ROOT / "tests" / "dags")
# A DAG folder tests write DAG files into (``scratch_dags``), e.g. a DAG with a 100 MiB .sql file next to it.
_SCRATCH_DAGS = _AIRFLOW_HOME / "scratch-dags"
_SCRATCH_DAGS.mkdir(exist_ok=True)
# Three DAG bundles: the shipped example DAGs, the DAGs the integration tests run, the scratch folder.
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": name,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(path)},
        }
        for name, path in (
            ("examples", _ROOT / "example_dags"),
            ("dags-folder", _ROOT / "tests" / "dags"),
            ("scratch", _SCRATCH_DAGS),
        )
    ]
)
os.environ.pop("AIRFLOW_CONN_FLINK_BATCH_DEFAULT", None)

import pytest  # noqa: E402
from deferred_airflow import DeferredDeployment  # noqa: E402

from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterError, LocalClusterInfo  # noqa: E402
from airflow_provider_flinkbatch.runner import RunnerJar, ensure_runner_jar  # noqa: E402

pytest_plugins = ["real_components"]  # connector jars and a Kafka broker from Maven Central

CONN_ID = "flink_batch_default"
# run_dag(dag_id, folder=None) -> (DagRun, {task_id: TaskInstance})
RunDag = Callable[..., tuple[Any, dict[str, Any]]]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_AIRFLOW_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """A migrated SQLite metadata DB, for tests that run DAGs with ``dag.test()``."""
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="session")
def runner_jar() -> RunnerJar:
    return ensure_runner_jar()


@pytest.fixture(scope="session")
def flink_cluster(tmp_path_factory: pytest.TempPathFactory, runner_jar: RunnerJar) -> Iterator[LocalClusterInfo]:
    """A real Flink 2.3 session cluster (JobManager, TaskManager, HistoryServer) on free ports, with the
    Parquet, Avro and Kafka jars loaded (``flinkbatch local up --with parquet,avro,kafka``)."""
    from real_components import cluster_jars

    cluster = LocalCluster(tmp_path_factory.mktemp("flink-cluster"), jars=cluster_jars()[0])
    info = cluster.up(timeout=180)
    try:
        yield info
    finally:
        cluster.down()


@pytest.fixture(scope="session")
def local_yarn(tmp_path_factory: pytest.TempPathFactory, runner_jar: RunnerJar) -> Iterator[Any]:
    """A REAL YARN cluster (Hadoop's MiniYARNCluster: RM + 2 NodeManagers) and a HistoryServer, once per session.

    Under CI (CI=true) a cluster that cannot be installed or started fails the run; elsewhere the tests
    that need it skip and say why.
    """
    import time

    from airflow_provider_flinkbatch.local.yarn_cluster import LocalYarnCluster
    from airflow_provider_flinkbatch.local.yarn_jars import HadoopJarsError

    cluster = LocalYarnCluster(tmp_path_factory.mktemp("local-yarn"))
    started = time.monotonic()
    try:
        info = cluster.up(timeout=300)
    except (LocalClusterError, HadoopJarsError) as err:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"the local YARN cluster could not start: {err}")
    print(f"\nlocal YARN cluster up in {time.monotonic() - started:.1f}s: {info.rm_url}")
    try:
        yield cluster
    finally:
        cluster.down()


@pytest.fixture(scope="session")
def deferred_airflow(tmp_path_factory: pytest.TempPathFactory, flink_cluster: LocalClusterInfo) -> Iterator[Any]:
    """Real Airflow processes running ``tests/dags/flinkbatch_deferred_dags.py`` on the session's Flink cluster
    (:class:`~deferred_airflow.DeferredDeployment`), started once for the user-action and defer-race tests."""
    deployment = DeferredDeployment(
        tmp_path_factory.mktemp("deferred-airflow"), flink_cluster.rest_url, flink_cluster.connection_uri_json()
    )
    try:
        deployment.start()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def flink_conn(flink_cluster: LocalClusterInfo, monkeypatch: pytest.MonkeyPatch) -> str:
    """``flink_batch_default`` pointing at the session cluster (through the env, as users do)."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", flink_cluster.connection_uri_json())
    return CONN_ID


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A directory Flink reads input from and writes output to (same machine)."""
    path = tmp_path / "data"
    path.mkdir()
    return path


def load_dag(dag_id: str, folder: Path | None = None) -> Any:
    """Parse a DAG from a DAG folder the way the DAG processor does."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder or _ROOT / "tests" / "dags"), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    assert dag is not None, f"{dag_id} not found"
    return dag


@pytest.fixture
def run_dag(airflow_db: None, flink_conn: str, data_dir: Path) -> RunDag:
    """Run a DAG end to end with ``dag.test()`` (deferrals run their trigger in line)."""
    return dag_runner(data_dir)


def dag_runner(data_dir: Path) -> RunDag:
    """``run(dag_id, folder=None, logical_date=None, **params)`` with ``dag.test()``, ``data_dir`` in the conf."""

    def run(
        dag_id: str, folder: Path | None = None, logical_date: Any = None, **params: Any
    ) -> tuple[Any, dict[str, Any]]:
        """``logical_date`` fixed -> the same run_id -> the same task instances as an earlier run."""
        dag = load_dag(dag_id, folder)
        extra = {"logical_date": logical_date, "run_after": logical_date} if logical_date is not None else {}
        dag_run = dag.test(run_conf={"data_dir": str(data_dir), **params}, **extra)
        return dag_run, {ti.task_id: ti for ti in dag_run.get_task_instances()}

    return run


@pytest.fixture
def scratch_dags() -> Iterator[Path]:
    """An empty DAG folder that is a configured bundle (``dag.test()`` runs only DAGs of bundles); emptied after."""
    try:
        yield _SCRATCH_DAGS
    finally:
        for child in _SCRATCH_DAGS.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.fixture
def scripted_server() -> Iterator[Any]:
    """A local HTTP server replaying scripted answers (see ``tests/fake_http.py``)."""
    from fake_http import start_scripted_server

    script, server = start_scripted_server()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()


def xcom_value(dag_run: Any, task_id: str, key: str = "return_value") -> Any:
    """What the Airflow UI/API would show for a task's XCom (read from the metadata DB)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key=key)
        ).first()
        return None if row is None else XComModel.deserialize_value(row)


def flink_jobs_named(rest_url: str, name: str) -> list[dict[str, Any]]:
    """Jobs on the cluster with this name (from ``/jobs/overview``), newest first."""
    import requests

    jobs = requests.get(f"{rest_url}/jobs/overview", timeout=10).json()["jobs"]
    return sorted((j for j in jobs if j["name"] == name), key=lambda j: -j["start-time"])


ORDERS_CSV = "1,DE,120.50,first\n2,FR,35.00,small\n3,DE,80.25,repeat\n4,US,410.00,x;y\n5,US,150.00,bulk\n"


@pytest.fixture
def orders(data_dir: Path) -> Path:
    (data_dir / "input").mkdir()
    path = data_dir / "input" / "orders.csv"
    path.write_text(ORDERS_CSV)
    return path


def read_output(directory: Path) -> list[str]:
    """Rows Flink's filesystem sink wrote (all part files, hidden in-progress files excluded)."""
    rows: list[str] = []
    for part in directory.rglob("*"):
        if part.is_file() and not part.name.startswith("."):
            rows += part.read_text().splitlines()
    return sorted(rows)


def make_request(sql: str, name: str, **config: str) -> Any:
    """A job request with a fresh identity (as if from a new DAG run), for tests that submit directly."""
    import uuid

    from airflow_provider_flinkbatch.identity import JobIdentity
    from airflow_provider_flinkbatch.sql.statements import split_statements
    from airflow_provider_flinkbatch.targets.base import JobRequest

    identity = JobIdentity(dag_id="tests", task_id=name, run_id=uuid.uuid4().hex, fingerprint="f" * 16)
    return JobRequest(statements=split_statements(sql), flink_config=config, job_name=name, identity=identity)


def slow_sql(rows: int, rows_per_second: int = 20) -> str:
    """A job that runs about ``rows / rows_per_second`` seconds (throttled datagen into a blackhole)."""
    return f"""
CREATE TEMPORARY TABLE slow_source (id BIGINT)
  WITH ('connector' = 'datagen', 'number-of-rows' = '{rows}', 'rows-per-second' = '{rows_per_second}');
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
"""


def call_with(kind: str, settings: Any, call: Any, retry: Any = None) -> Any:
    """Run one REST call through the sync (worker) or the async (triggerer) client."""
    import asyncio

    from airflow_provider_flinkbatch.rest.client import AsyncFlinkRestClient, FlinkRestClient, RetryPolicy

    retry = retry or RetryPolicy(budget=5.0, initial_delay=0.05, max_delay=0.2)
    if kind == "sync":
        client = FlinkRestClient(settings, retry)
        try:
            return client.call(call)
        finally:
            client.close()

    async def run() -> Any:
        aclient = AsyncFlinkRestClient(settings, retry)
        try:
            return await aclient.call(call)
        finally:
            await aclient.aclose()

    return asyncio.run(run())


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Both REST clients share error mapping and retries: run a case against each."""
    return str(request.param)


def spawn_dag_worker(dag_id: str, logical_date: Any, run_conf: dict[str, Any], log: Path) -> Any:
    """``dag.test()`` of one DAG in its own process group (for drills that ``kill -9`` the worker).

    Output goes to ``log`` so a drill that waits in vain can say what the worker did (see ``worker_story``).
    """
    import subprocess
    import sys

    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                str(_ROOT / "tests" / "drills" / "run_dag_process.py"),
                str(_ROOT / "tests" / "dags"),
                dag_id,
                logical_date.isoformat(),
                json.dumps(run_conf),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_story(worker: Any, log: Path, lines: int = 30) -> str:
    """Whether the worker still runs, and the end of its output: for assertion messages."""
    status = "still running" if worker.poll() is None else f"exited with {worker.returncode}"
    tail = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
    return f"worker {status}; last output:\n" + "\n".join(tail)
