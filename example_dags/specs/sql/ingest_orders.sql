-- Ingest one day of orders: drop test and cancelled orders, normalize countries, revenue per country.
CREATE TEMPORARY TABLE orders_raw (
    order_id BIGINT,
    country  STRING,
    amount   DECIMAL(10, 2),
    status   STRING
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/landing/orders/{{ ds }}',
    'format'    = 'json'
);

CREATE TEMPORARY TABLE orders_daily (
    dt      STRING,
    country STRING,
    orders  BIGINT,
    revenue DECIMAL(12, 2)
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/warehouse/orders_daily/{{ ds }}',
    'format'    = 'csv'
);

INSERT OVERWRITE orders_daily
SELECT '{{ ds }}', UPPER(TRIM(country)), COUNT(*), SUM(amount)
FROM orders_raw
WHERE status NOT IN ('test', 'cancelled')
GROUP BY UPPER(TRIM(country));
