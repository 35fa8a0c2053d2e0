-- Ingest one day of sign-ups: one row per user (retries of the sign-up form repeat it), per channel.
CREATE TEMPORARY TABLE signups_raw (
    user_id    BIGINT,
    channel    STRING,
    country    STRING,
    created_at TIMESTAMP(3)
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/landing/signups/{{ ds }}',
    'format'    = 'json'
);

CREATE TEMPORARY TABLE signups_daily (
    dt      STRING,
    channel STRING,
    country STRING,
    signups BIGINT
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/signups_daily/{{ ds }}',
    'format'    = 'csv'
);

INSERT OVERWRITE signups_daily
SELECT '{{ ds }}', LOWER(channel), UPPER(TRIM(country)), COUNT(DISTINCT user_id)
FROM signups_raw
WHERE user_id IS NOT NULL
GROUP BY LOWER(channel), UPPER(TRIM(country));
