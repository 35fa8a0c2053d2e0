"""The provider's Airflow UI plugin: a "Flink job" view on the task instance and DAG run pages.

:mod:`.plugin` is what Airflow loads in every component (entry point ``airflow.plugins``), so it only
declares the views; the FastAPI app (:mod:`.app`) and everything it reads load on the first request.
"""
