"""The base of the provider's errors whose message says what is wrong and how to fix it.

The ``flinkbatch`` CLI prints these (and ``ValueError``/``OSError``) as one line instead of a traceback.
One base class, defined here with no imports, lets it catch them without importing every module that
raises one (which would cost ``flinkbatch --help`` the cluster, jar and HTTP code).
"""


class FlinkBatchError(Exception):
    """A failure the user can act on from the message alone (a missing JVM, a bad URL, a jar that won't resolve)."""
