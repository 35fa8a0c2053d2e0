"""The Target interface (``base``), the request every target is handed (``request``, ``job_config``) and the
explicit ``target=`` registry (``registry``); each backend's target lives with its backend
(:mod:`~airflow_provider_flinkbatch.session`, :mod:`~airflow_provider_flinkbatch.kubernetes`,
:mod:`~airflow_provider_flinkbatch.yarn`)."""
