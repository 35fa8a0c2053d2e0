-- Daily revenue per country and the list of large orders, computed as ONE Flink batch job:
-- both INSERTs below run together as a single statement set.
SET 'parallelism.default' = '2';

CREATE TEMPORARY TABLE orders (
    order_id BIGINT,
    country  STRING,
    amount   DECIMAL(10, 2),
    note     STRING
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/input/orders.csv',
    'format'    = 'csv'
);

CREATE TEMPORARY TABLE revenue_by_country (
    country STRING,
    orders  BIGINT,
    revenue STRING  -- CAST below keeps two decimals in the CSV (410.00, not 4.1E+2)
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/output/revenue_by_country',
    'format'    = 'csv'
);

CREATE TEMPORARY TABLE large_orders (
    order_id BIGINT,
    country  STRING,
    amount   STRING
) WITH (
    'connector' = 'filesystem',
    'path'      = '{{ params.data_dir }}/output/large_orders',
    'format'    = 'csv'
);

INSERT OVERWRITE revenue_by_country
SELECT country, COUNT(*) AS orders, CAST(SUM(amount) AS STRING) AS revenue
FROM orders
GROUP BY country;

/* A semicolon inside a string literal does not end the statement; */
INSERT OVERWRITE large_orders
SELECT order_id, country, CAST(amount AS STRING)
FROM orders
WHERE amount >= 100 AND note <> 'test order; ignore';
