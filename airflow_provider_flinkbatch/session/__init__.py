"""Session cluster backend: a Flink cluster's REST API (``hook``: connection -> sync and async clients) and
the target that runs the SQL runner jar through ``/jars/<id>/run`` (``target``). Flink's own job states
are read in one place (``state``: :class:`~airflow_provider_flinkbatch.session.state.JobState`)."""
