-- Three tables joined and aggregated, two sinks: the batch planner fuses the scans into MultipleInput
-- vertices (names not starting with "Source") and scans `orders` once per INSERT.
CREATE TEMPORARY TABLE customers (customer_id BIGINT, country STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/input/customers', 'format' = 'csv');
CREATE TEMPORARY TABLE products (product_id BIGINT, category STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/input/products', 'format' = 'csv');
CREATE TEMPORARY TABLE orders (order_id BIGINT, customer_id BIGINT, product_id BIGINT, amount DECIMAL(10, 2)) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/input/orders', 'format' = 'csv');
CREATE TEMPORARY TABLE revenue (country STRING, category STRING, orders BIGINT, revenue STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/output/revenue', 'format' = 'csv');
CREATE TEMPORARY TABLE big_orders (order_id BIGINT, country STRING, amount STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/output/big_orders', 'format' = 'csv');

INSERT OVERWRITE revenue
SELECT c.country, p.category, COUNT(*), CAST(SUM(o.amount) AS STRING)
FROM orders o
JOIN customers c ON o.customer_id = c.customer_id
JOIN products p ON o.product_id = p.product_id
GROUP BY c.country, p.category;

INSERT OVERWRITE big_orders
SELECT o.order_id, c.country, CAST(o.amount AS STRING)
FROM orders o JOIN customers c ON o.customer_id = c.customer_id
WHERE o.amount >= 400;
