"""Extra link to the job's YARN application page in the ResourceManager UI (``target="yarn"``).

The Flink UI (through the YARN web proxy) and the HistoryServer links are the regular
:mod:`~airflow_provider_flinkbatch.links.flink` links: the YARN target puts the proxy URL in
``web_ui_url`` of the same ``flink_job`` XCom.
"""

from __future__ import annotations

from airflow.sdk import BaseOperator, BaseOperatorLink
from airflow.sdk.types import TaskInstanceKey

from airflow_provider_flinkbatch.links.flink import _job_info


class YarnApplicationLink(BaseOperatorLink):
    """``<resourcemanager>/cluster/app/<application id>``; empty for other targets."""

    name = "YARN Application"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        info = _job_info(ti_key)
        return str(info.get("yarn_app_url") or "") if info else ""
