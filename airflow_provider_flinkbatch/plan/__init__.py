"""Plan insight: what Flink's optimizer pushed into each scan (columns, filters, partitions)."""
