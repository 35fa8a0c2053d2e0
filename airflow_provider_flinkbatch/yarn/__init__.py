"""YARN backend: each job is a Flink application cluster (``flink run -t yarn-application``).

``settings`` (connection -> validated settings), ``hook`` (all I/O: RM clients with HA failover, sync and
async, and Flink REST clients through the YARN web proxy), ``calls`` (RM endpoints as data), ``cli``
(argv building, running and output parsing of the submission), ``tags`` (the identity carried in YARN
tags), ``state`` (:class:`ApplicationState`: the one reading of ``state``/``finalStatus`` as a Flink
outcome), ``options`` (``target_options``) and ``target`` (submit, find, cancel, diagnose).
"""
