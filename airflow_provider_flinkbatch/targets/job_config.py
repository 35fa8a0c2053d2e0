"""The Flink configuration a job is submitted with, the same for every target.

Batch mode, the user's config, the job name, and the identity as global job parameters (so a later
try can read ``airflow.fingerprint`` back from ``/jobs/<id>/config``). Session (REST body) and YARN
(CLI ``-D`` options) both send exactly this.
"""

from __future__ import annotations

from airflow_provider_flinkbatch.identity import GLOBAL_JOB_PARAMETERS, flink_map_option
from airflow_provider_flinkbatch.targets.base import JobRequest


def effective_flink_config(request: JobRequest) -> dict[str, str]:
    config = {"execution.runtime-mode": "BATCH", **request.flink_config, "pipeline.name": request.job_name}
    config[GLOBAL_JOB_PARAMETERS] = flink_map_option(
        request.identity.job_parameters(request.attempt), config.get(GLOBAL_JOB_PARAMETERS)
    )
    return config
