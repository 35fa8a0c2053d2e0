-- One day of the searches topic (Avro values, schemas/search.avsc) -> Parquet, partition dt.
CREATE TEMPORARY TABLE searches_raw (
    event_id   STRING NOT NULL,
    user_id    BIGINT NOT NULL,
    query      STRING NOT NULL,
    results    INT NOT NULL,
    event_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
    'connector'                     = 'kafka',
    'topic'                         = 'searches',
    'properties.bootstrap.servers'  = '{{ params.bootstrap_servers }}',
    'scan.startup.mode'             = 'timestamp',
    'scan.startup.timestamp-millis' = '{{ (logical_date.timestamp() * 1000) | int }}',
    'scan.bounded.mode'             = 'timestamp',
    'scan.bounded.timestamp-millis' = '{{ ((logical_date + macros.timedelta(days=1)).timestamp() * 1000) | int }}',
    'value.format'                  = 'avro'
);

CREATE TEMPORARY TABLE searches (
    event_id   STRING,
    user_id    BIGINT,
    query      STRING,
    results    INT,
    event_time TIMESTAMP(3),
    dt         STRING
) PARTITIONED BY (dt) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/searches',
    'format'    = 'parquet'
);

INSERT OVERWRITE searches PARTITION (dt = '{{ ds }}')
SELECT event_id, user_id, LOWER(TRIM(query)), results, CAST(event_time AS TIMESTAMP(3))
FROM searches_raw
WHERE results >= 0;
