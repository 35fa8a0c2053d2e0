-- One day of the purchases topic (Avro values, schemas/purchase.avsc) -> Parquet, partition dt.
CREATE TEMPORARY TABLE purchases_raw (
    order_id     STRING NOT NULL,
    user_id      BIGINT NOT NULL,
    amount_cents BIGINT NOT NULL,
    currency     STRING NOT NULL,
    coupon       STRING,
    event_time   TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
) WITH (
    'connector'                     = 'kafka',
    'topic'                         = 'purchases',
    'properties.bootstrap.servers'  = '{{ params.bootstrap_servers }}',
    'scan.startup.mode'             = 'timestamp',
    'scan.startup.timestamp-millis' = '{{ (logical_date.timestamp() * 1000) | int }}',
    'scan.bounded.mode'             = 'timestamp',
    'scan.bounded.timestamp-millis' = '{{ ((logical_date + macros.timedelta(days=1)).timestamp() * 1000) | int }}',
    'value.format'                  = 'avro'
);

CREATE TEMPORARY TABLE purchases (
    order_id     STRING,
    user_id      BIGINT,
    amount       DECIMAL(12, 2),
    currency     STRING,
    coupon       STRING,
    event_time   TIMESTAMP(3),
    dt           STRING
) PARTITIONED BY (dt) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/purchases',
    'format'    = 'parquet'
);

INSERT OVERWRITE purchases PARTITION (dt = '{{ ds }}')
SELECT order_id, user_id, CAST(amount_cents AS DECIMAL(12, 2)) / 100, UPPER(currency), coupon,
       CAST(event_time AS TIMESTAMP(3))
FROM purchases_raw;
