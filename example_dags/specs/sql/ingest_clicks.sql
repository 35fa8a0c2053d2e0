-- Ingest one day of click events: drop bots and rows without a page, normalize countries,
-- count each event once (the landing zone may hold duplicates).
CREATE TEMPORARY TABLE clicks_raw (
    event_id   STRING,
    user_id    BIGINT,
    page       STRING,
    country    STRING,
    user_agent STRING,
    event_time TIMESTAMP(3)
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/landing/clicks/{{ ds }}',
    'format'    = 'json'
);

CREATE TEMPORARY TABLE clicks_daily (
    dt      STRING,
    page    STRING,
    country STRING,
    clicks  BIGINT,
    users   BIGINT
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/clicks_daily/{{ ds }}',
    'format'    = 'csv'
);

INSERT OVERWRITE clicks_daily
SELECT '{{ ds }}', page, UPPER(TRIM(country)), COUNT(DISTINCT event_id), COUNT(DISTINCT user_id)
FROM clicks_raw
WHERE page IS NOT NULL AND LOWER(user_agent) NOT LIKE '%bot%'
GROUP BY page, UPPER(TRIM(country));
