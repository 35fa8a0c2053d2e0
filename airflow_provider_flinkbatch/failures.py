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
from airflow_provider_flinkbatch.sql.errors import describe_rejection
from airflow_provider_flinkbatch.targets.base import SubmissionRejected

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
    ti = context["ti"]
    will_retry, sentence = diagnosis.retry_plan(int(ti.try_number or 1), int(getattr(ti, "max_tries", 0) or 0))
    log.error("Flink job did not finish:\n%s", diagnosis.describe(links, retry=sentence))
    ti.xcom_push(key=DIAGNOSIS_XCOM_KEY, value=diagnosis.model_dump())
    if will_retry:
        raise AirflowException(f"{diagnosis.headline()} (retried: {sentence})")
    raise AirflowFailException(f"{diagnosis.headline()} ({diagnosis.advice}; retried: {sentence})")


def raise_for_rejected_submission(log: Any, err: SubmissionRejected, script: str, where: str) -> NoReturn:
    """A job the target refused before it ran: wrong SQL fails at once, naming the statement in ``where``
    (the task's ``.sql`` file or its inline SQL); anything else may be retried."""
    # Flink's answer holds its Java stack trace: keep it for debugging, out of the task log.
    log.debug("Flink's answer to the submission: %s", err.__cause__ or err)
    if err.sql_error:
        message = describe_rejection(str(err), script, where)
        raise AirflowFailException(f"Flink rejected the SQL, nothing was submitted: {message}") from None
    raise AirflowException(f"Flink refused the job: {err}") from None
