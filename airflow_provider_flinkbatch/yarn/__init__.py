"""YARN: the ResourceManager REST client, the Flink CLI invocation, and their connection settings.

Split by job: :mod:`settings` (connection -> validated settings), :mod:`calls` (RM endpoints as data),
:mod:`client` (sync/async RM clients with HA failover), :mod:`apps` (YARN app JSON -> Flink terms),
:mod:`cli` (argv building, running and output parsing of ``flink run -t yarn-application``).
"""
