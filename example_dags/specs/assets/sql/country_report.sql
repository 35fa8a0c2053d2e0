-- Every day of orders_by_day, per country. No logical-date macros (ds, ts): an asset-triggered run has no logical date.
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

CREATE TEMPORARY TABLE country_revenue (
    dt      STRING,
    country STRING,
    orders  BIGINT,
    revenue DECIMAL(12, 2)
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/reports/country_revenue',
    'format'    = 'csv'
);

INSERT OVERWRITE country_revenue
SELECT dt, country, COUNT(*), SUM(amount) FROM orders_by_day GROUP BY dt, country;
