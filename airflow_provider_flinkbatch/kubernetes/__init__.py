"""Kubernetes target pieces: options, manifest rendering, CR status reading (all light, pure Python).

The Kubernetes clients are imported only where a task talks to the API server
(:mod:`~airflow_provider_flinkbatch.kubernetes.target`, :mod:`~airflow_provider_flinkbatch.triggers.kubernetes`).
"""
