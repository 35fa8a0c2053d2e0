"""DAGs the integration tests run with ``dag.test()`` against the real local Flink cluster.

They live in a DAG folder (a bundle configured by ``tests/conftest.py``) because ``dag.test()``
runs what the DAG processor would: the DAG is parsed and serialized like in production.
Input/output paths come from the ``data_dir`` param the tests pass as run conf.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_flinkbatch.operators.sql import FlinkBatchSqlOperator
from airflow_provider_flinkbatch.sensors.job import FlinkJobSensor

START = datetime(2026, 1, 1)
PARAMS = {"data_dir": "/nonexistent"}


def orders_table(name: str = "orders") -> str:
    return f"""
CREATE TEMPORARY TABLE {name} (order_id BIGINT, country STRING, amount STRING, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/input/orders.csv', 'format' = 'csv'
);"""


def multi_statement_sql(out: str) -> str:
    """DDL, a SET, a comment with a semicolon and two INSERTs that must become ONE job."""
    return f"""
-- totals and big orders; computed together
SET 'parallelism.default' = '2';
{orders_table()}
CREATE TEMPORARY TABLE totals (country STRING, orders BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/{out}/totals', 'format' = 'csv'
);
CREATE TEMPORARY TABLE big (order_id BIGINT, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{{{ params.data_dir }}}}/{out}/big', 'format' = 'csv'
);
INSERT INTO totals SELECT country, COUNT(*) FROM orders GROUP BY country;
/* the string below holds a semicolon; it must not split the statement */
INSERT INTO big SELECT order_id, note FROM orders WHERE CAST(amount AS DOUBLE) >= 100 AND note <> 'x;y';
"""


with DAG("it_multi_statement", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="deferrable",
        sql=multi_statement_sql("out_deferrable"),
        job_name="it.multi.deferrable",
        flink_config={"pipeline.max-parallelism": 8},
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
    )
    FlinkBatchSqlOperator(
        task_id="blocking",
        sql=multi_statement_sql("out_blocking"),
        job_name="it.multi.blocking",
        deferrable=False,
        poll_interval=0.5,
    )

with DAG("it_runtime_failure", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="bad_cast",
        sql=orders_table()
        + """
CREATE TEMPORARY TABLE amounts (order_id BIGINT, amount INT) WITH ('connector' = 'blackhole');
INSERT INTO amounts SELECT order_id, CAST(note AS INT) FROM orders;
""",
        flink_config={"table.exec.legacy-cast-behaviour": "DISABLED"},
        job_name="it.runtime_failure",
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
        retries=2,  # bad data is not retryable: the task must fail at once anyway
        retry_delay=timedelta(seconds=0),
    )


def missing_input_sql() -> str:
    return """
CREATE TEMPORARY TABLE late_input (id BIGINT) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/not-there-yet', 'format' = 'csv'
);
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM late_input;
"""


with DAG("it_missing_input", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="missing_input",
        sql=missing_input_sql(),
        job_name="it.missing_input",
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
        retries=2,  # a missing input is the user's error: not retried by default
        retry_delay=timedelta(seconds=0),
    )
    FlinkBatchSqlOperator(
        task_id="late_input",
        sql=missing_input_sql(),
        job_name="it.late_input",
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
        retries=1,
        retry_delay=timedelta(seconds=0),
        retry_on={"input_missing": True},  # "the input may arrive late": retried, each try a new Flink job
    )

with DAG("it_validation_error", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="unknown_column",
        sql="sql/it_validation_error.sql",
        job_name="it.validation_error",
        retries=3,
        retry_delay=timedelta(seconds=0),
    )

with DAG("it_timeout_cancels_job", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="slow",
        sql="""
CREATE TEMPORARY TABLE slow_source (id BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '1000000', 'rows-per-second' = '20'
);
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
""",
        job_name="it.timeout_cancels_job",
        deferrable=False,
        poll_interval=0.5,
        execution_timeout=timedelta(seconds=12),
    )

with DAG("it_sensor", schedule=None, start_date=START, params={"job_id": "0" * 32}):
    FlinkJobSensor(task_id="deferrable", job_id="{{ params.job_id }}", deferrable=True, poke_interval=0.5)
    FlinkJobSensor(task_id="poking", job_id="{{ params.job_id }}", deferrable=False, poke_interval=0.5)


def slow_sql(rows: int) -> str:
    """A job that runs about ``rows / 20`` seconds (datagen throttled to 20 rows/s)."""
    return f"""
CREATE TEMPORARY TABLE slow_source (id BIGINT) WITH (
  'connector' = 'datagen', 'number-of-rows' = '{rows}', 'rows-per-second' = '20'
);
CREATE TEMPORARY TABLE sink (id BIGINT) WITH ('connector' = 'blackhole');
INSERT INTO sink SELECT id FROM slow_source;
"""


# Drills (tests/drills): the same task instance survives a killed worker and a frozen JobManager.
with DAG("it_drill_crash", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="crash", sql=slow_sql(300), job_name="it.drill.crash", deferrable=False, poll_interval=0.5
    )

with DAG("it_drill_outage", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="outage",
        sql=slow_sql(500),
        job_name="it.drill.outage",
        flink_conn_id="flink_drill",
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
        transient_error_budget=120,
    )

with DAG("it_drill_rerun", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="rerun", sql=slow_sql(20), job_name="it.drill.rerun", deferrable=True, poll_interval=0.5
    )

# Bad input: every task must fail at once with a message naming the problem (tests/test_bad_inputs.py).
with DAG("it_bad_inputs", schedule=None, start_date=START, params=PARAMS, default_args={"retries": 2}):
    FlinkBatchSqlOperator(task_id="empty_sql", sql="  ")
    FlinkBatchSqlOperator(task_id="only_comments", sql="-- nothing here;\n/* still nothing */")
    FlinkBatchSqlOperator(task_id="unterminated_string", sql="INSERT INTO t SELECT 'oops FROM s")
    FlinkBatchSqlOperator(task_id="config_wrong_type", sql="INSERT INTO t SELECT 1", flink_config={"a": [1, 2]})
    FlinkBatchSqlOperator(task_id="unknown_connection", sql="INSERT INTO t SELECT 1", flink_conn_id="no_such_conn")
    FlinkBatchSqlOperator(task_id="jinja_error", sql="INSERT INTO t SELECT {{ params.data_dir ", retries=0)

with DAG("it_secrets", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="with_secret_config",
        sql="CREATE TEMPORARY TABLE sink (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO sink VALUES (1);",
        flink_conn_id="flink_with_password",
        flink_config={
            "s3.secret-key": "s3cr3t-VALUE-9f8e7d",
            "fs.azure.account.key.acct.dfs.core.windows.net": "azure-KEY-1a2b3c",
            "properties.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required "
            'username="u" password="jaas-PASS-4d5e6f";',
            "my.vault.entry": "vault-VALUE-7a8b9c",  # secret only by the user's pattern (the test sets it)
            "table.exec.sink.keyed-shuffle": "AUTO",
        },
        job_name="it.secrets",
        deferrable=False,
        poll_interval=0.5,
    )

# Shell metacharacters in names and SQL are data, never commands (tests/test_no_shell.py).
with DAG("it_no_shell", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="metachars",
        sql="""
CREATE TEMPORARY TABLE sink (x STRING) WITH ('connector' = 'filesystem', 'path' = '{{ params.data_dir }}/out', 'format' = 'raw');
INSERT INTO sink VALUES ('; rm -rf {{ params.data_dir }}/canary'), ('$(touch {{ params.data_dir }}/pwned)'), ('`id` "q" ''s''');
""",
        job_name="it.no_shell; rm -rf {{ params.data_dir }}/canary $(touch {{ params.data_dir }}/pwned) 'q\" `id`",
        deferrable=False,
        poll_interval=0.5,
    )

with DAG("it_platform", schedule=None, start_date=START, params=PARAMS):
    # presets + plan insight + metrics on one real job (a GROUP BY, so data is shuffled between vertices)
    FlinkBatchSqlOperator(
        task_id="presets_and_plan",
        sql=multi_statement_sql("out_platform"),
        job_name="it.platform",
        presets=["blocking-shuffle", "speculative"],
        explain=True,
        deferrable=True,
        defer_grace=0,  # dag.test() runs the trigger in-process (no defer race): exercise it
        poll_interval=0.5,
    )

with DAG("it_plan_check_fail", schedule=None, start_date=START, params=PARAMS):
    # datagen takes no projection: all 11 columns are generated for a query that uses 2
    FlinkBatchSqlOperator(
        task_id="wide_scan",
        sql="""
CREATE TEMPORARY TABLE events (id INT, name STRING, c1 STRING, c2 STRING, c3 STRING, c4 STRING, c5 STRING,
  c6 STRING, c7 STRING, c8 STRING, c9 STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '10');
CREATE TEMPORARY TABLE names (id INT, name STRING) WITH ('connector' = 'blackhole');
INSERT INTO names SELECT id, name FROM events;
""",
        job_name="it.plan.check.fail",
        explain=True,
        plan_check="fail",
        retries=2,
    )

with DAG("it_preset_missing_endpoints", schedule=None, start_date=START, params=PARAMS):
    FlinkBatchSqlOperator(
        task_id="celeborn",
        sql="CREATE TEMPORARY TABLE s (x INT) WITH ('connector' = 'blackhole');\nINSERT INTO s VALUES (1);",
        job_name="it.preset.missing",
        presets=["celeborn"],
        retries=2,
    )

with DAG("it_join_counts", schedule=None, start_date=START, params=PARAMS):
    # rows per source table and per sink table on a real 3-table join with aggregation (tests/test_jobs.py)
    FlinkBatchSqlOperator(
        task_id="join",
        sql="sql/it_join_counts.sql",
        job_name="it.join_counts",
        deferrable=True,
        defer_grace=0,
        poll_interval=0.5,
    )
