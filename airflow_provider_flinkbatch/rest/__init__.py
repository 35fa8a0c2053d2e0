"""The Flink REST layer shared by hooks, triggers and operators.

``calls`` defines each endpoint once (path, method, how to parse the answer); ``client`` executes
those definitions synchronously (requests) or asynchronously (httpx) with the same error mapping and
the same retry policy, so the deferrable and the blocking paths cannot drift apart.
"""
