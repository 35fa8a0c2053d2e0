"""The provider's "Flink job" view in a real Airflow UI, with real logins (opt-in: ``-m browser``).

Airflow 3.3 runs as four processes (api-server, scheduler, dag-processor, triggerer) with SimpleAuthManager
users (admin, a viewer, and a user without a role) against a real local Flink cluster of this module's
own, so the test can restart its JobManager. Two DAGs run (``tests/dags/flinkbatch_view_dags.py``): one
job FINISHES, one FAILS on bad data. Chromium, signed in as the viewer, opens the "Flink job" tab of
each task instance; after the cluster restart (the JobManager forgot both jobs) the view still shows
them, read from the HistoryServer. Screenshots go to ``FLINKBATCH_SCREENSHOTS`` (docs/img for the docs).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from airflow_processes import AirflowProcesses
from chromium_page import Page, find_chromium, headless_chromium

from airflow_provider_flinkbatch.local import LocalCluster, LocalClusterInfo
from airflow_provider_flinkbatch.runner import RunnerJar

DAGS = Path(__file__).resolve().parents[1] / "dags"
OK_DAG, BAD_DAG, TASK_ID = "flinkbatch_view_ok", "flinkbatch_view_bad", "totals"
DOWNSTREAM_DAG = "flinkbatch_view_downstream"
MAPPED_DAG = "flinkbatch_view_mapped"
# Secrets on the view's connection: no answer of the plugin may contain them.
PASSWORD, BEARER = "pw-view-7f3a91", "bearer-view-c2d8e4"
USERS = {"admin": ("admin", "admin-pw"), "viewer": ("viewer", "viewer-pw"), "outsider": ("", "outsider-pw")}

# The UI shows an external view in an iframe titled with the view's name.
TASK_FRAME, RUN_FRAME = 'iframe[title="Flink job"]', 'iframe[title="Flink jobs"]'

CHROMIUM = find_chromium()

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.skipif(
        CHROMIUM is None and os.environ.get("CI") != "true",
        reason="no chromium on PATH (FLINKBATCH_BROWSER=1 bash scripts/test.sh -m browser installs Debian's chromium)",
    ),
]


@dataclass
class Deployment:
    airflow: AirflowProcesses
    cluster: LocalCluster
    info: LocalClusterInfo
    data: Path
    runs: dict[str, str]  # dag id -> run id (of the OK and BAD DAGs)
    mapped_run: str


def _connection(info: LocalClusterInfo) -> str:
    conn = json.loads(info.connection_uri_json())
    conn.update(login="flink", password=PASSWORD)
    conn["extra"]["bearer_token"] = BEARER
    conn["extra"]["timeout"] = 120  # /jars/<id>/run plans the SQL in the JobManager: slow on 2 busy cores
    return json.dumps(conn)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, runner_jar: RunnerJar) -> Iterator[Deployment]:
    """Own Flink cluster + Airflow with users; both DAGs run to their end before any test looks."""
    home = tmp_path_factory.mktemp("airflow-view-home")
    cluster = LocalCluster(home / "flink")
    info = cluster.up(timeout=180)
    data = home / "data"
    data.mkdir()
    (data / "good.csv").write_text("1,DE,12\n2,FR,30\n3,DE,8\n")
    (data / "bad.csv").write_text("1,DE,12\n2,FR,twelve\n")
    dags = home / "dags"
    dags.mkdir()
    shutil.copy(DAGS / "flinkbatch_view_dags.py", dags)
    airflow = AirflowProcesses(
        home / "airflow",
        dags,
        {"AIRFLOW_CONN_FLINK_VIEW": _connection(info), "FLINKBATCH_VIEW_DATA_DIR": str(data)},
        users=USERS,
    )
    try:
        airflow.start()
        airflow.wait_until(lambda: _parsed(airflow), 180, "the dag-processor to parse the view DAGs")
        runs = {}
        for dag_id in (OK_DAG, BAD_DAG, MAPPED_DAG):  # one after the other: two submissions at once crowd 2 cores
            run = airflow.api("POST", f"/dags/{dag_id}/dagRuns", json={"logical_date": None})
            run_id = str(run["dag_run_id"])
            airflow.wait_until(lambda d=dag_id, r=run_id: _run_done(airflow, d, r), 300, f"{dag_id} to end", 2)
            runs[dag_id] = run_id
        mapped_run = runs.pop(MAPPED_DAG)
        yield Deployment(airflow, cluster, info, data, runs, mapped_run)
    finally:
        airflow.stop()
        cluster.down()


@pytest.fixture
def browser(deployment: Deployment) -> Iterator[Page]:
    assert CHROMIUM is not None, (
        "CI=true and no chromium on PATH: the browser check cannot run (apt-get install chromium)"
    )
    with headless_chromium(CHROMIUM, height=1200) as page:
        page.sign_in(deployment.airflow.url, deployment.airflow.token("viewer"))
        yield page


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("FLINKBATCH_SCREENSHOTS")
    return Path(target) if target else tmp_path_factory.mktemp("view-screenshots")


def test_runs_ended_as_flink_decided(deployment: Deployment) -> None:
    airflow, bad_run = deployment.airflow, deployment.runs[BAD_DAG]
    assert _run_done(airflow, OK_DAG, deployment.runs[OK_DAG]) == "success"
    assert _run_done(airflow, BAD_DAG, bad_run) == "failed"
    # the bad run failed because its Flink job did (not before submitting): the task stored the diagnosis
    path = f"/dags/{BAD_DAG}/dagRuns/{bad_run}/taskInstances/{TASK_ID}/xcomEntries/flink_diagnosis"
    assert "user_data_error" in str(airflow.api("GET", path)["value"])


def test_finished_job_emits_an_asset_event_that_schedules_the_downstream_dag(deployment: Deployment) -> None:
    """Issue 21 item 4: the table the job wrote is an asset; the DAG scheduled on it runs, seeing the event."""
    airflow, run_id = deployment.airflow, deployment.runs[OK_DAG]
    job_id = _api_view(airflow, OK_DAG, run_id)["job_id"]
    uri = f"file://{deployment.data}/out-{OK_DAG}"
    events = airflow.asset_events(OK_DAG)
    assert [(e["uri"], e["source_run_id"]) for e in events] == [(uri, run_id)]
    expected = {"table": "totals", "connector": "filesystem", "flink_job_id": job_id, "rows_written": 2}
    assert {key: events[0]["extra"].get(key) for key in expected} == expected, events[0]["extra"]
    runs = airflow.wait_until(
        lambda: _downstream_runs(airflow), 180, "the asset-scheduled flinkbatch_view_downstream to run", 2
    )
    downstream = runs[0]["dag_run_id"]
    airflow.wait_until(lambda: _run_done(airflow, DOWNSTREAM_DAG, downstream), 180, "the downstream run to end", 2)
    assert runs[0]["run_type"] == "asset_triggered"
    path = f"/dags/{DOWNSTREAM_DAG}/dagRuns/{downstream}/taskInstances/report/xcomEntries/return_value"
    seen = airflow.api("GET", path, params={"deserialize": True})["value"]
    assert job_id in str(seen) and "rows_written" in str(seen)


def test_plugin_is_registered_by_installing_the_package(deployment: Deployment) -> None:
    plugins = deployment.airflow.api("GET", "/plugins")["plugins"]
    ours = next(plugin for plugin in plugins if plugin["name"] == "flinkbatch")
    views = {view["name"]: view["destination"] for view in ours["external_views"]}
    assert views == {"Flink job": "task_instance", "Flink jobs": "dag_run"}
    assert [app["url_prefix"] for app in ours["fastapi_apps"]] == ["/flinkbatch"]


def test_view_endpoints_enforce_airflow_authorization_and_hide_secrets(deployment: Deployment) -> None:
    airflow, run_id = deployment.airflow, deployment.runs[BAD_DAG]
    for path in (_task_path(BAD_DAG, run_id), f"/flinkbatch/dags/{BAD_DAG}/runs/{quote(run_id, safe='')}"):
        for prefix in ("", "/api"):
            url = airflow.url + path.replace("/flinkbatch", "/flinkbatch" + prefix, 1)
            assert requests.get(url, timeout=30).status_code == 401, url  # anonymous
            outsider = requests.get(url, headers=_bearer(airflow, "outsider"), timeout=30)
            assert outsider.status_code == 403, (url, outsider.text[:300])  # signed in, may not read the DAG
            viewer = requests.get(url, headers=_bearer(airflow, "viewer"), timeout=60)
            assert viewer.status_code == 200, (url, viewer.text[:500])
            assert PASSWORD not in viewer.text and BEARER not in viewer.text, url
    # an unknown task instance is a 404, a known one answers its job's facts
    missing = requests.get(
        airflow.url + _task_path(BAD_DAG, run_id, "nope").replace("/flinkbatch", "/flinkbatch/api", 1),
        headers=_bearer(airflow, "viewer"),
        timeout=30,
    )
    assert missing.status_code == 404


def test_view_shows_finished_job(deployment: Deployment, browser: Page, screenshots: Path) -> None:
    airflow, run_id = deployment.airflow, deployment.runs[OK_DAG]
    facts = _api_view(airflow, OK_DAG, run_id)
    assert (facts["state"], facts["source"], facts["name"]) == ("FINISHED", "jobmanager", f"{OK_DAG}.totals")
    assert facts["records_read"] == 3 and facts["records_written"] == 2  # 3 CSV rows in, DE and FR out
    assert facts["diagnosis"] is None
    assert [(a["attempt"], a["job_id"], a["state"]) for a in facts["attempts"]] == [(0, facts["job_id"], "FINISHED")]
    assert facts["plan"] and facts["plan"]["scans"][0]["table"].endswith("amounts")

    browser.open(_ui_tab(airflow, OK_DAG, run_id), wait_for=["Flink job"])
    text = browser.wait_for_frame_text(
        TASK_FRAME, ["FINISHED", facts["job_id"], "Vertices", "Attempts of this task instance", "Plan insight"]
    )
    assert "Data from" in text and "jobmanager" in text
    for vertex in facts["vertices"]:
        assert vertex["name"][:40] in text
    browser.screenshot(screenshots / "airflow-flink-job-view-finished.png")


def test_view_shows_diagnosis_of_failed_job(deployment: Deployment, browser: Page, screenshots: Path) -> None:
    airflow, run_id = deployment.airflow, deployment.runs[BAD_DAG]
    facts = _api_view(airflow, BAD_DAG, run_id)
    assert (facts["state"], facts["source"]) == ("FAILED", "jobmanager")
    diagnosis = facts["diagnosis"]
    assert diagnosis["category"] == "user_data_error" and diagnosis["retryable"] is False
    assert diagnosis["exception_class"] == "java.lang.NumberFormatException"
    assert diagnosis["vertex"] and diagnosis["task_manager"]

    browser.open(_ui_tab(airflow, BAD_DAG, run_id), wait_for=["Flink job"])
    text = browser.wait_for_frame_text(
        TASK_FRAME,
        ["FAILED", "Diagnosis", "user_data_error", "java.lang.NumberFormatException", diagnosis["vertex"]],
    )
    assert "Retryable\tno" in text or "Retryable\nno" in text, text
    assert diagnosis["task_manager"] in text
    browser.screenshot(screenshots / "airflow-flink-job-view-failed.png")

    # the DAG run page lists the run's Flink task, linking to this view
    browser.open(_ui_run_tab(airflow, BAD_DAG, run_id), wait_for=["Flink jobs"])
    run_text = browser.wait_for_frame_text(RUN_FRAME, [TASK_ID, facts["job_id"], "FAILED"])
    assert "failed" in run_text
    browser.screenshot(screenshots / "airflow-flink-jobs-of-run.png")
    # ... and its task link opens that task's Flink job view inside the tab (the UI's iframe sandbox
    # allows no navigation of the page around it)
    browser.page.frame_locator(RUN_FRAME).get_by_role("link", name=TASK_ID, exact=True).click()
    browser.wait_for_frame_text(RUN_FRAME, [facts["job_id"], "Diagnosis", "user_data_error"])


def test_view_and_links_of_mapped_task_instances(deployment: Deployment, browser: Page, screenshots: Path) -> None:
    """Issue 21: each mapped task instance (map_index) has its own job; its view, its links and its tab show it."""
    airflow, run_id, rest_url = deployment.airflow, deployment.mapped_run, deployment.info.rest_url
    assert _run_done(airflow, MAPPED_DAG, run_id) == "success"
    instances = f"/dags/{MAPPED_DAG}/dagRuns/{run_id}/taskInstances/{TASK_ID}"
    views = {index: _api_view(airflow, MAPPED_DAG, run_id, index) for index in (0, 1)}
    for index, view in views.items():
        stored = airflow.api(
            "GET", f"{instances}/xcomEntries/flink_job", params={"map_index": index, "deserialize": True}
        )["value"]
        assert view["job_id"] == stored["job_id"] and view["task"]["map_index"] == index
        assert (view["state"], view["source"]) == ("FINISHED", "jobmanager")
        assert [(a["attempt"], a["job_id"], a["latest"]) for a in view["attempts"]] == [(0, view["job_id"], True)]
        # Airflow's own extra links of that task instance open that job (completed: the task saw it end)
        links = airflow.api("GET", f"{instances}/links", params={"map_index": index})["extra_links"]
        assert links["Flink Job"] == f"{rest_url}/#/job/completed/{view['job_id']}/overview", links
        assert view["links"]["Flink UI"] == links["Flink Job"]
    # Flink ran exactly these two jobs for the mapped task
    jobs = requests.get(f"{rest_url}/jobs/overview", timeout=10).json()["jobs"]
    assert {job["jid"] for job in jobs if job["name"] == f"{MAPPED_DAG}.{TASK_ID}"} == {
        view["job_id"] for view in views.values()
    }
    assert views[0]["job_id"] != views[1]["job_id"]

    tab = f"{airflow.url}/dags/{MAPPED_DAG}/runs/{quote(run_id, safe='')}/tasks/{TASK_ID}/mapped/1/plugin/flink-job"
    browser.open(tab, wait_for=["Flink job"])
    text = browser.wait_for_frame_text(TASK_FRAME, ["FINISHED", views[1]["job_id"], "Attempts of this task instance"])
    assert views[0]["job_id"] not in text
    browser.open(_ui_run_tab(airflow, MAPPED_DAG, run_id), wait_for=["Flink jobs"])
    browser.wait_for_frame_text(RUN_FRAME, [views[0]["job_id"], views[1]["job_id"]])
    browser.page.frame_locator(RUN_FRAME).get_by_role("link", name=TASK_ID).nth(1).click()
    opened = browser.wait_for_frame_text(RUN_FRAME, [views[1]["job_id"], "Attempts of this task instance"])
    assert views[0]["job_id"] not in opened


def test_view_survives_a_jobmanager_that_forgot_the_jobs(
    deployment: Deployment, browser: Page, screenshots: Path
) -> None:
    airflow = deployment.airflow
    jobs = {dag_id: _api_view(airflow, dag_id, run_id)["job_id"] for dag_id, run_id in deployment.runs.items()}

    def archived(job_id: str) -> bool:
        try:  # (the HistoryServer can cut a body short while it rewrites the file it serves: ask again)
            return requests.get(f"{deployment.info.history_url}/jobs/{job_id}", timeout=10).status_code == 200
        except requests.RequestException:
            return False

    for job_id in jobs.values():  # both archived before the restart
        airflow.wait_until(
            lambda j=job_id: archived(j),
            90,
            f"the HistoryServer to archive {job_id}",
        )
    deployment.cluster.down()
    restarted = deployment.cluster.up(timeout=180)
    assert restarted.rest_url == deployment.info.rest_url
    for job_id in jobs.values():
        assert requests.get(f"{restarted.rest_url}/jobs/{job_id}", timeout=10).status_code == 404

    bad = _api_view(airflow, BAD_DAG, deployment.runs[BAD_DAG])
    assert (bad["state"], bad["source"]) == ("FAILED", "historyserver")
    assert bad["diagnosis"]["category"] == "user_data_error" and bad["diagnosis"]["source"] == "historyserver"
    assert [(a["attempt"], a["state"], a["source"]) for a in bad["attempts"]] == [(0, "FAILED", "historyserver")]
    ok = _api_view(airflow, OK_DAG, deployment.runs[OK_DAG])
    assert (ok["state"], ok["source"], ok["records_written"]) == ("FINISHED", "historyserver", 2)

    browser.open(_ui_tab(airflow, BAD_DAG, deployment.runs[BAD_DAG]), wait_for=["Flink job"])
    text = browser.wait_for_frame_text(
        TASK_FRAME, ["FAILED", "historyserver", "user_data_error", "java.lang.NumberFormatException"]
    )
    assert "jobmanager" in text and "not found" in text  # the sources asked: the JobManager forgot it
    browser.screenshot(screenshots / "airflow-flink-job-view-from-historyserver.png")


def _task_path(dag_id: str, run_id: str, task_id: str = TASK_ID) -> str:
    return f"/flinkbatch/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}"


def _ui_tab(airflow: AirflowProcesses, dag_id: str, run_id: str) -> str:
    return f"{airflow.url}/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{TASK_ID}/plugin/flink-job"


def _ui_run_tab(airflow: AirflowProcesses, dag_id: str, run_id: str) -> str:
    return f"{airflow.url}/dags/{dag_id}/runs/{quote(run_id, safe='')}/plugin/flink-jobs"


def _bearer(airflow: AirflowProcesses, user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {airflow.token(user)}"}


def _api_view(airflow: AirflowProcesses, dag_id: str, run_id: str, map_index: int | None = None) -> dict[str, Any]:
    url = airflow.url + _task_path(dag_id, run_id).replace("/flinkbatch", "/flinkbatch/api", 1)
    params = {"map_index": map_index} if map_index is not None else None
    response = requests.get(url, headers=_bearer(airflow, "viewer"), params=params, timeout=60)
    assert response.status_code == 200, response.text[:1000]
    return dict(response.json())


def _downstream_runs(airflow: AirflowProcesses) -> list[dict[str, Any]]:
    return list(airflow.api("GET", f"/dags/{DOWNSTREAM_DAG}/dagRuns")["dag_runs"])


def _parsed(airflow: AirflowProcesses) -> bool:
    dags = {dag["dag_id"] for dag in airflow.api("GET", "/dags", params={"dag_id_pattern": "flinkbatch_view"})["dags"]}
    return {OK_DAG, BAD_DAG, DOWNSTREAM_DAG, MAPPED_DAG} <= dags


def _run_done(airflow: AirflowProcesses, dag_id: str, run_id: str) -> str | None:
    state = airflow.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
    return state if state in ("success", "failed") else None
