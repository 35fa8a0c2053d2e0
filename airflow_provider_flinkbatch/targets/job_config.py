"""The Flink configuration a job is submitted with, whatever the target.

One function so the session cluster (``/jars/<id>/run``) and the Kubernetes custom resources
(``spec.flinkConfiguration``) always agree: batch mode, the user's config, the job name and the
identity parameters (``pipeline.global-job-parameters``) that make an earlier attempt findable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_flinkbatch.identity import flink_map_option

if TYPE_CHECKING:
    from airflow_provider_flinkbatch.targets.base import JobRequest

GLOBAL_JOB_PARAMETERS = "pipeline.global-job-parameters"


def job_configuration(request: JobRequest) -> dict[str, str]:
    """``execution.runtime-mode: BATCH`` + the request's config + ``pipeline.name`` + identity parameters."""
    config = {"execution.runtime-mode": "BATCH", **request.flink_config, "pipeline.name": request.job_name}
    config[GLOBAL_JOB_PARAMETERS] = flink_map_option(
        request.identity.job_parameters(request.attempt), config.get(GLOBAL_JOB_PARAMETERS)
    )
    return config
