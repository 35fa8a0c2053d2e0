"""The provider in a real Airflow UI, checked with headless Chromium through Playwright (opt-in: ``-m browser``).

Airflow 3.3 runs as it does in production (api-server, scheduler, dag-processor, triggerer as separate
processes; SQLite; LocalExecutor) against the real local Flink cluster. The example DAG
``flink_batch_sql_local`` is triggered through the REST API; its deferrable Flink task ends within the defer
grace (a short job, watched from the worker: docs/identity.md); then Chromium opens the task instance page and
the connection form the way a user would.

Run: ``FLINKBATCH_BROWSER=1 bash scripts/test.sh -m browser tests/browser`` (installs Debian's
``chromium`` if missing). Screenshots are written to ``docs/img/`` when ``FLINKBATCH_SCREENSHOTS`` names
a directory (the committed ones come from such a run), else to the test's temp dir.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from airflow_processes import AirflowProcesses
from chromium_page import Page, find_chromium, headless_chromium

from airflow_provider_flinkbatch.local import LocalClusterInfo

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
DAG_ID = "flink_batch_sql_local"
TASK_ID = "daily_revenue"
UI_CONN_ID = "flink_batch_ui_check"

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif(
        CHROMIUM is None and os.environ.get("CI") != "true",
        reason="no chromium on PATH (FLINKBATCH_BROWSER=1 bash scripts/test.sh -m browser installs Debian's chromium)",
    ),
]


@pytest.fixture(scope="module")
def airflow(flink_cluster: LocalClusterInfo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowProcesses]:
    """Airflow's four components on SQLite, with ``flink_batch_default`` pointing at the local cluster."""
    home = tmp_path_factory.mktemp("airflow-ui-home")
    # Only the example under test: the other examples have schedules, and their runs would compete
    # for SQLite's single writer.
    dags = home / "dags"
    (dags / "sql").mkdir(parents=True)
    shutil.copy(EXAMPLES / f"{DAG_ID}.py", dags)
    shutil.copy(EXAMPLES / "sql" / f"{DAG_ID}.sql", dags / "sql")
    stack = AirflowProcesses(
        home,
        dags,
        {
            "AIRFLOW_CONN_FLINK_BATCH_DEFAULT": flink_cluster.connection_uri_json(),
            "FLINKBATCH_EXAMPLE_DATA_DIR": str(home / "data"),
        },
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def finished_run(airflow: AirflowProcesses) -> str:
    """Trigger the example DAG through the REST API and wait for the run to succeed; return its run id."""
    airflow.wait_until(lambda: _dag_parsed(airflow), 180, f"the dag-processor to parse {DAG_ID}")
    run = airflow.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
    run_id = str(run["dag_run_id"])
    state = airflow.wait_until(
        lambda: _run_state_if_done(airflow, run_id), 300, f"run {run_id} of {DAG_ID} to finish", interval=2
    )
    assert state == "success", (
        f"{DAG_ID} run {state}; task states: {_task_states(airflow, run_id)}\n{airflow.log_tails()}"
    )
    return run_id


@pytest.fixture
def browser() -> Iterator[Page]:
    assert CHROMIUM is not None, (
        "CI=true and no chromium on PATH: the browser check cannot run (apt-get install chromium)"
    )
    with headless_chromium(CHROMIUM) as page:
        yield page


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("FLINKBATCH_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("screenshots")


def test_task_page_links_open_the_job_in_flink_ui_and_history_server(
    airflow: AirflowProcesses,
    finished_run: str,
    flink_cluster: LocalClusterInfo,
    browser: Page,
    screenshots: Path,
) -> None:
    summary = airflow.api(
        "GET", f"/dags/{DAG_ID}/dagRuns/{finished_run}/taskInstances/{TASK_ID}/xcomEntries/return_value"
    )
    job_id = _job_id_from(summary["value"])
    assert _task_states(airflow, finished_run) == dict.fromkeys(("prepare_input", TASK_ID, "show_results"), "success")

    # The REST API serves the extra links the UI renders.
    api_links = airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{finished_run}/taskInstances/{TASK_ID}/links")[
        "extra_links"
    ]
    assert api_links["Flink Job"] == f"{flink_cluster.rest_url}/#/job/completed/{job_id}/overview"
    assert api_links["Flink HistoryServer"] == f"{flink_cluster.history_url}/#/job/completed/{job_id}/overview"

    # The task instance page (its Details tab holds "Extra Links"), as a user sees it: both links are
    # there and point at the job.
    page = f"{airflow.url}/dags/{DAG_ID}/runs/{quote(finished_run, safe='')}/tasks/{TASK_ID}/details"
    browser.open(page, wait_for=["Extra Links", "Flink Job", "Flink HistoryServer", TASK_ID])
    shown = browser.links()
    browser.scroll_to_text("Extra Links")
    browser.screenshot(screenshots / "airflow-task-instance-flink-links.png")
    assert shown.get("Flink Job") == api_links["Flink Job"], shown
    assert shown.get("Flink HistoryServer") == api_links["Flink HistoryServer"], shown

    # Both targets answer: the dashboards load, and the REST behind their #/job/... routes knows the job.
    for link, rest in (
        (shown["Flink Job"], flink_cluster.rest_url),
        (shown["Flink HistoryServer"], flink_cluster.history_url),
    ):
        assert requests.get(link, timeout=30).status_code == 200
        job = airflow.wait_until(lambda rest=rest: _job_json(rest, job_id), 60, f"{rest}/jobs/{job_id}")
        assert job["jid"] == job_id and job["state"] == "FINISHED" and job["name"] == "example.daily_revenue"

    # And both dashboards render the job page the links name (the #/job/... route, in the browser).
    browser.open(shown["Flink Job"], wait_for=["example.daily_revenue", job_id])
    browser.screenshot(screenshots / "flink-ui-job.png")
    browser.open(shown["Flink HistoryServer"], wait_for=["example.daily_revenue", job_id])
    browser.screenshot(screenshots / "flink-historyserver-job.png")


def test_connection_form_shows_the_provider_fields(airflow: AirflowProcesses, browser: Page, screenshots: Path) -> None:
    airflow.api(
        "POST",
        "/connections",
        json={
            "connection_id": UI_CONN_ID,
            "conn_type": "flink_batch",
            # No extra: editing a connection that has one, Airflow 3.3's form lists only the stored keys.
            "host": "http://jobmanager:8081",
        },
    )
    browser.open(f"{airflow.url}/connections", wait_for=[UI_CONN_ID])
    clicked = browser.evaluate(
        f"""(() => {{
          const row = Array.from(document.querySelectorAll('tr')).find(r => r.innerText.includes('{UI_CONN_ID}'));
          if (!row) return 'no row';
          const edit = Array.from(row.querySelectorAll('button')).find(
            b => /edit/i.test((b.getAttribute('aria-label') || '') + ' ' + (b.title || '') + ' ' + b.innerText));
          if (!edit) return 'no edit button in: ' + row.innerHTML.slice(0, 2000);
          edit.click();
          return 'ok';
        }})()"""
    )
    assert clicked == "ok", clicked
    # The relabelled standard field shows at once; the provider's own fields sit in "Extra Fields".
    browser.wait_for_text(["Edit Connection", "Flink Batch", "Flink REST URL"], where="the connection edit form")
    assert browser.click_text("Extra Fields"), "no 'Extra Fields' section in the connection form"
    labels = [
        "Bearer token",
        "Verify TLS certificate",
        "CA bundle path",
        "Client certificate path",
        "HistoryServer URL",
    ]
    browser.wait_for_text(labels, where="the connection form's Extra Fields")
    browser.scroll_to_text("Extra Fields")
    browser.screenshot(screenshots / "airflow-connection-form-flink-batch.png")
    values = browser.evaluate("Array.from(document.querySelectorAll('input')).map(i => i.value)")
    assert "http://jobmanager:8081" in values, values  # the stored host shows in the relabelled field


def _dag_parsed(airflow: AirflowProcesses) -> bool:
    dags = airflow.api("GET", "/dags", params={"dag_id_pattern": DAG_ID})
    return any(dag["dag_id"] == DAG_ID for dag in dags["dags"])


def _run_state_if_done(airflow: AirflowProcesses, run_id: str) -> str | None:
    state = airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")["state"]
    return state if state in ("success", "failed") else None


def _task_states(airflow: AirflowProcesses, run_id: str) -> dict[str, str]:
    tis = airflow.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")["task_instances"]
    return {ti["task_id"]: ti["state"] for ti in tis}


def _job_id_from(value: object) -> str:
    text = str(value)
    match = re.search(r"[0-9a-f]{32}", text)
    assert match, f"no Flink job id in the task's XCom: {text[:500]}"
    return match.group(0)


def _job_json(rest: str, job_id: str) -> dict[str, object] | None:
    response = requests.get(f"{rest}/jobs/{job_id}", timeout=10)
    return response.json() if response.status_code == 200 else None
