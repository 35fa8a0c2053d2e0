"""SQL script handling on the Airflow side (before anything reaches Flink)."""
