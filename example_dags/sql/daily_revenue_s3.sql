-- Daily revenue per country from Parquet files on S3, written back as one Flink batch job.
SET 'parallelism.default' = '8';
CREATE TEMPORARY TABLE orders (order_id BIGINT, country STRING, amount DECIMAL(10, 2), order_date DATE) WITH (
  'connector' = 'filesystem', 'path' = 's3://example-lake/orders/', 'format' = 'parquet'
);
CREATE TEMPORARY TABLE revenue (country STRING, order_date DATE, revenue DECIMAL(12, 2)) WITH (
  'connector' = 'filesystem', 'path' = 's3://example-lake/revenue/{{ ds }}/', 'format' = 'parquet'
);
INSERT INTO revenue
SELECT country, order_date, SUM(amount) FROM orders WHERE order_date = DATE '{{ ds }}' GROUP BY country, order_date;
