#!/usr/bin/env bash
# README command 1: run the example DAG end to end on a local Flink session cluster.
#   install -> start local Flink (JobManager, TaskManager, HistoryServer) -> `airflow dags test`
#   -> print the rows Flink wrote and the links to the job. Safe to re-run.
source "$(dirname "${BASH_SOURCE[0]}")/_env.sh" local

export AIRFLOW_HOME="$FLINKBATCH_HOME/airflow-home"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export FLINKBATCH_EXAMPLE_DATA_DIR="$FLINKBATCH_HOME/example-data"
mkdir -p "$AIRFLOW_HOME"

log "Starting the local Flink cluster"
flinkbatch local up
AIRFLOW_CONN_FLINK_BATCH_DEFAULT="$(flinkbatch local up --print-connection)"
export AIRFLOW_CONN_FLINK_BATCH_DEFAULT

log "Preparing the Airflow metadata database (SQLite in $AIRFLOW_HOME)"
airflow db migrate >"$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }

log "Running example_dags/flink_batch_sql_local.py with 'airflow dags test'"
run_log="$AIRFLOW_HOME/dags-test.log"
set +e
# -f: parse only this DAG's file (the other examples may need extras the demo does not install)
airflow dags test flink_batch_sql_local -f "$ROOT/example_dags/flink_batch_sql_local.py" >"$run_log" 2>&1
rc=$?
set -e
# The task logs are verbose; show what a user wants to see: the Flink lines and the result rows.
grep -E "Submitted Flink job|Flink job .* (FINISHED|ended)|^== |^   |^Flink (job|UI|HistoryServer)|Root cause|DagRun Finished" "$run_log" \
  | sed -E 's/^[0-9T:.-]+Z \[[a-z]+ *\] //; s/ \[airflow[^]]*\].*$//'
if [ $rc -ne 0 ] || ! grep -q "state=success" "$run_log"; then
  echo "The example DAG failed; full log: $run_log" >&2
  exit 1
fi
log "Done. Stop Flink with: $VENV/bin/flinkbatch local down   (full log: $run_log)"
