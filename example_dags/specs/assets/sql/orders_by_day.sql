-- One day of shop orders into its partition: the table (not the day) is the asset, the day is the event's
-- partition ({"dt": "<ds>"}), so a DAG scheduled on the table runs for every day that lands.
CREATE TEMPORARY TABLE shop_orders (
    order_id BIGINT,
    country  STRING,
    amount   DECIMAL(10, 2)
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/landing/shop_orders/dt={{ ds }}',
    'format'    = 'csv'
);

CREATE TEMPORARY TABLE orders_by_day (
    order_id BIGINT,
    country  STRING,
    amount   DECIMAL(10, 2),
    dt       STRING
) PARTITIONED BY (dt) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/orders_by_day',
    'format'    = 'csv'
);

INSERT OVERWRITE orders_by_day PARTITION (dt = '{{ ds }}')
SELECT order_id, UPPER(TRIM(country)), amount FROM shop_orders;
