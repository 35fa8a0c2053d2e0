-- An unknown column in the 3rd statement: the task log must point at line 12, column 8 of this file.
CREATE TEMPORARY TABLE orders (order_id BIGINT, country STRING, amount STRING, note STRING) WITH (
  'connector' = 'filesystem', 'path' = '{{ params.data_dir }}/input/orders.csv', 'format' = 'csv'
);

CREATE TEMPORARY TABLE sink (country STRING, x STRING) WITH ('connector' = 'blackhole');

/* the SELECT list spans lines,
   so the position is not the statement's first line */
INSERT INTO sink
SELECT country,
       no_such_column
FROM orders;
