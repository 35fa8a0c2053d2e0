"""A standalone Flink session cluster (JobManager, TaskManager, HistoryServer) on 127.0.0.1.

The local default target and the project's tests use it; ``flinkbatch local up|down|status`` drives it.
"""

from airflow_provider_flinkbatch.local.cluster import LocalCluster, LocalClusterError, LocalClusterInfo

__all__ = ["LocalCluster", "LocalClusterError", "LocalClusterInfo"]
