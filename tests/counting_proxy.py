"""A counting reverse proxy in front of a REAL control plane (ResourceManager, kube-apiserver).

Tests and benchmarks point the provider at it to count the requests that reach the server, by method
and path, per moment in time; it can also refuse one path (to show what a failing shared listing does), or
lose the answer to a request (``lose``: forward it, then drop the connection or answer too late; or drop it
without forwarding). Everything else is forwarded byte for byte to the real server.
"""

from __future__ import annotations

import http.client
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class CountingProxy:
    """Forwards to ``target`` (``http(s)://host:port``); ``seen`` holds ``(time, method, path without query)``."""

    target: str
    seen: list[tuple[float, str, str]] = field(default_factory=list)
    #: ``(method, path)`` -> HTTP status to answer instead of forwarding (a refused listing).
    refuse: dict[tuple[str, str], int] = field(default_factory=dict)
    #: ``(method, path) -> fault or None``: ``"drop"`` forwards the request, then closes the connection without
    #: an answer; ``"delay:<seconds>"`` forwards it and answers that much later; ``"swallow"`` closes the
    #: connection without forwarding. ``lost`` counts the requests given a fault.
    lose: Callable[[str, str], str | None] | None = None
    lost: int = 0
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> CountingProxy:
        proxy = self
        split = urlsplit(self.target)
        context = ssl._create_unverified_context() if split.scheme == "https" else None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                path = self.path.split("?", 1)[0]
                with proxy._lock:
                    proxy.seen.append((time.monotonic(), self.command, path))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                refused = proxy.refuse.get((self.command, path))
                if refused is not None:
                    payload = b'{"RemoteException": {"exception": "Refused", "message": "refused by the test proxy"}}'
                    self.send_response(refused)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                fault = proxy.lose(self.command, path) if proxy.lose is not None else None
                if fault is not None:
                    with proxy._lock:
                        proxy.lost += 1
                if fault == "swallow":
                    self.close_connection = True
                    return
                connection: http.client.HTTPConnection
                if context is not None:
                    connection = http.client.HTTPSConnection(
                        split.hostname or "", split.port, context=context, timeout=60
                    )
                else:
                    connection = http.client.HTTPConnection(split.hostname or "", split.port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    answer = connection.getresponse()
                    payload = answer.read()
                finally:
                    connection.close()
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault and fault.startswith("delay:"):
                    time.sleep(float(fault.split(":", 1)[1]))
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def count(self, method: str, path: str, since: float = 0.0, until: float = float("inf")) -> int:
        """Requests ``method path`` (exact path, or a prefix when it ends with ``/``) in ``[since, until)``."""
        with self._lock:
            seen = list(self.seen)
        match = (lambda p: p.startswith(path)) if path.endswith("/") else (lambda p: p == path)
        return sum(1 for at, m, p in seen if m == method and match(p) and since <= at < until)
