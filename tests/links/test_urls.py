"""Link building: the Flink dashboard and HistoryServer pages a user lands on."""

from __future__ import annotations

import pytest

from airflow_provider_flinkbatch.links.urls import flink_ui_job_url, history_server_job_url

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
