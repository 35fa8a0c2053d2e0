"""Link building: the Flink dashboard and HistoryServer pages a user lands on."""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.links.urls import flink_ui_job_url, history_server_job_url, job_links

JOB = "0123456789abcdef0123456789abcdef"


def test_running_and_finished_jobs_use_the_dashboard_routes() -> None:
    assert flink_ui_job_url("http://jm:8081/", JOB, finished=False) == f"http://jm:8081/#/job/running/{JOB}/overview"
    assert flink_ui_job_url("http://jm:8081", JOB, finished=True) == f"http://jm:8081/#/job/completed/{JOB}/overview"


def test_history_server_link_keeps_path_prefixes() -> None:
    assert (
        history_server_job_url("https://gw.example.com/flink-history/", JOB)
        == f"https://gw.example.com/flink-history/#/job/completed/{JOB}/overview"
    )


def test_a_malformed_job_id_is_rejected_instead_of_building_a_broken_link() -> None:
    with pytest.raises(ValueError, match="job id"):
        flink_ui_job_url("http://jm:8081", "../../admin", finished=True)


def test_job_links_follow_flinks_job_id_and_the_running_route_while_the_job_runs() -> None:
    """A FlinkSessionJob runs under the operator's id (``flink_job_id``): Flink's pages only know that one."""
    flink_id = "fedcba9876543210fedcba9876543210"
    info = {"web_ui_url": "http://jm:8081", "history_server_url": "http://hs:8082", "flink_job_id": flink_id}
    assert job_links(info, JOB, finished=False) == {
        "Flink UI": f"http://jm:8081/#/job/running/{flink_id}/overview",
        "HistoryServer": f"http://hs:8082/#/job/completed/{flink_id}/overview",
    }
    assert job_links({"web_ui_url": "http://jm:8081"}, JOB) == {
        "Flink UI": f"http://jm:8081/#/job/completed/{JOB}/overview"
    }
