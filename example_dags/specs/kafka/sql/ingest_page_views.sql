-- One day of the page_views topic (Avro values, schemas/page_view.avsc) -> Parquet, partition dt.
-- The read is bounded on both sides by record timestamps, so a rerun of the same day reads the same events.
CREATE TEMPORARY TABLE page_views_raw (
    event_id   STRING NOT NULL,
    user_id    BIGINT NOT NULL,
    page       STRING NOT NULL,
    referrer   STRING,
    device     ROW<os STRING NOT NULL, browser STRING NOT NULL> NOT NULL,
    event_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
    'connector'                     = 'kafka',
    'topic'                         = 'page_views',
    'properties.bootstrap.servers'  = '{{ params.bootstrap_servers }}',
    'scan.startup.mode'             = 'timestamp',
    'scan.startup.timestamp-millis' = '{{ (logical_date.timestamp() * 1000) | int }}',
    'scan.bounded.mode'             = 'timestamp',
    'scan.bounded.timestamp-millis' = '{{ ((logical_date + macros.timedelta(days=1)).timestamp() * 1000) | int }}',
    'value.format'                  = 'avro'
);

CREATE TEMPORARY TABLE page_views (
    event_id   STRING,
    user_id    BIGINT,
    page       STRING,
    referrer   STRING,
    device     ROW<os STRING, browser STRING>,
    event_time TIMESTAMP(3),
    dt         STRING
) PARTITIONED BY (dt) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/page_views',
    'format'    = 'parquet'
);

INSERT OVERWRITE page_views PARTITION (dt = '{{ ds }}')
SELECT event_id, user_id, page, referrer, device, CAST(event_time AS TIMESTAMP(3))
FROM page_views_raw;
