"""Real HTTP servers that answer with scripted responses (proxies, outages, broken bodies) or hostile ones
(:class:`Hostile`: dripping, endless and redirecting answers).

Used where real Flink cannot produce the situation (an HTML 502 from a proxy, a 401 from an auth
gateway, truncated JSON). The clients under test speak real HTTP to it.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: str = ""
    content_type: str = "application/json"

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value))


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class ScriptedServer:
    """Replies per (method, path) are consumed in order; the last one repeats."""

    replies: dict[tuple[str, str], deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Seen] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path: str, *replies: Reply) -> None:
        self.replies[(method, path)].extend(replies)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.split("?")[0] == path)

    def answer(self, method: str, path: str) -> Reply:
        queue = self.replies.get((method, path.split("?")[0]))
        if not queue:
            return Reply.json({"errors": ["Not found: " + path]}, 404)
        return queue.popleft() if len(queue) > 1 else queue[0]


def start_scripted_server(tls: ssl.SSLContext | None = None) -> tuple[ScriptedServer, ThreadingHTTPServer]:
    """Serve scripted replies on 127.0.0.1 (HTTPS when a server TLS context is given)."""
    script = ScriptedServer()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            script.requests.append(Seen(self.command, self.path, dict(self.headers), body))
            reply = script.answer(self.command, self.path)
            data = reply.body.encode()
            self.send_response(reply.status)
            self.send_header("content-type", reply.content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    script.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return script, server


class Hostile(BaseHTTPRequestHandler):
    """``/drip``: a JSON body one byte every 50 ms (10 minutes in all); ``/huge``: zeros without end;
    ``/declared``: a 3 GB Content-Length; ``/jars/x.jar/run``: a 307 to another server."""

    other = ""
    seen: list[tuple[str, str, bytes, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, body, self.headers.get("authorization", "")))
        try:
            if self.path == "/drip":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "12000")
                self.end_headers()
                for _ in range(12000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif self.path == "/huge":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()  # no length: the body ends when the connection does
                chunk = b"0" * 1024 * 1024
                for _ in range(4096):  # 4 GiB if nobody stops reading
                    self.wfile.write(chunk)
            elif self.path == "/declared":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(3 * 1024**3))
                self.end_headers()
                self.wfile.write(b"[")
            elif self.path.startswith("/jars/x.jar/run"):
                self.send_response(307)
                self.send_header("Location", f"{self.other}/stolen")
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the tests want

    do_GET = do_POST = _answer


def serve_hostile() -> tuple[ThreadingHTTPServer, str]:
    """A :class:`Hostile` server on 127.0.0.1: (server, its URL)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
