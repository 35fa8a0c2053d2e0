"""TLS contexts for the async (httpx) clients, built once per process and shared by clients with the same settings.

Building an ``ssl.SSLContext`` loads a CA bundle: 35-55 ms of CPU on this project's 2-core machine. Made per
client, a triggerer paid that for every per-job client, every HistoryServer client a trigger opens when its job
ends, and every cancel: for 1,000 triggers close to a minute of CPU. A context is safe to share between
connections and threads. The cache key holds the files' modification times, so a CA bundle or client
certificate that was rotated is read again.
"""

from __future__ import annotations

import functools
import os
import ssl


def shared_ssl_context(verify: bool | str, client_certificate: tuple[str, str] | None = None) -> ssl.SSLContext:
    """The context for ``verify`` (True: the system CAs, a path: that CA bundle, False: no verification) and the
    optional ``(certificate, key)`` PEM paths for mutual TLS."""
    paths = [path for path in (verify if isinstance(verify, str) else None, *(client_certificate or ())) if path]
    return _context(verify, client_certificate, tuple(_stamp(path) for path in paths))


def _stamp(path: str) -> int:
    try:
        stat = os.stat(path)
        return hash((stat.st_mtime_ns, stat.st_size, stat.st_ino))
    except OSError:  # a missing file fails in the context's build, with ssl's message
        return -1


@functools.lru_cache(maxsize=32)
def _context(
    verify: bool | str, client_certificate: tuple[str, str] | None, _stamps: tuple[int, ...]
) -> ssl.SSLContext:
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if client_certificate:
        context.load_cert_chain(*client_certificate)
    return context
