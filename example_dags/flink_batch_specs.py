from airflow_provider_flinkbatch.specs import build_dags  # one DAG per job spec in specs/ (see docs/specs.md)

build_dags("specs", globals())
