"""Session cluster backend: a Flink cluster's REST API (``hook``: connection -> sync and async clients) and
the target that runs the SQL runner jar through ``/jars/<id>/run`` (``target``). Flink's own job states
(``jobs.is_terminal``) need no translation here."""
