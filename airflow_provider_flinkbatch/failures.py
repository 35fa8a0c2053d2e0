"""Turn a job that did not finish into the right Airflow failure, with the diagnosis in the task log.

Shared by the operator and the sensor: non-retryable categories raise ``AirflowFailException`` (no
retries wasted on a SQL typo or bad data), retryable ones a plain ``AirflowException`` so the task's
``retries`` act.
"""

from __future__ import annotations

from typing import Any, NoReturn

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_provider_flinkbatch.diagnosis import Diagnosis, diagnose_unknown
from airflow_provider_flinkbatch.history.hook import FlinkHistoryServerHook, JobHistoryNotFound
from airflow_provider_flinkbatch.history.sources import ArchiveError
from airflow_provider_flinkbatch.rest.errors import FlinkRestError

DIAGNOSIS_XCOM_KEY = "flink_diagnosis"


def diagnose_or_placeholder(conn_id: str, job_id: str, state: str, retry_on: dict[str, bool] | None) -> Diagnosis:
    """The diagnosis from the first source that knows the job, or an 'unknown' one saying what was tried."""
    try:
        return FlinkHistoryServerHook(conn_id).diagnose(job_id, retry_on=retry_on)
    except (JobHistoryNotFound, FlinkRestError, ArchiveError) as err:
        return diagnose_unknown(job_id, state, str(err), retry_on)


def raise_for_failed_job(
    log: Any, context: Any, diagnosis: Diagnosis, *, links: dict[str, str] | None = None
) -> NoReturn:
    """Log the diagnosis, push it to XCom, and fail (fast when retrying cannot help)."""
    log.error("Flink job did not finish:\n%s", diagnosis.describe(links))
    context["ti"].xcom_push(key=DIAGNOSIS_XCOM_KEY, value=diagnosis.model_dump())
    if diagnosis.retryable:
        raise AirflowException(diagnosis.headline() + " (retryable)")
    raise AirflowFailException(diagnosis.headline() + f" (not retried: {diagnosis.advice})")
