"""An emulated pair of YARN ResourceManagers, for what one MiniYARNCluster cannot show: RM HA failover.

The real local YARN cluster (``local_yarn``) has a single ResourceManager, so a standby RM that answers
``307 This is standby RM. The redirect url is: ...`` (or, knowing no active RM, ``200 This is standby
RM ...`` as a text page) cannot happen there. This speaks just enough of the RM REST API as documented
(``GET /ws/v1/cluster/apps/{id}``, ``PUT .../state`` 202 then 200, 404 ``RemoteException``) for the REST
client's failover tests; everything else runs against the real cluster.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FINAL = ("FINISHED", "FAILED", "KILLED")


@dataclass
class App:
    id: str
    name: str
    state: str = "RUNNING"
    final_status: str = "UNDEFINED"
    kill_requested: bool = False

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "state": self.state, "finalStatus": self.final_status}


class RmEmulator:
    """One emulated RM (``standby_of`` set: a standby that redirects everything to that RM)."""

    def __init__(self, *, standby_of: RmEmulator | None = None, standby_redirects: bool = True) -> None:
        self.standby_of = standby_of
        self.standby_redirects = standby_redirects
        self.apps: dict[str, App] = {}
        self.cluster_ts = int(time.time() * 1000)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add_static(self, name: str) -> App:
        """An application record (RUNNING) for the failover tests."""
        with self.lock:
            app = App(f"application_{self.cluster_ts}_{len(self.apps) + 1:04d}", name)
            self.apps[app.id] = app
        return app

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rm = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: Any, content_type: str = "application/json", **headers: str) -> None:
                data = (json.dumps(body) if content_type == "application/json" else str(body)).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rm.requests.append((self.command, self.path))
                if rm.standby_of is not None and not rm.standby_redirects:  # a standby that knows no active RM
                    self._send(200, "This is standby RM. Redirecting to the current active RM: unknown", "text/plain")
                    return
                if rm.standby_of is not None:
                    target = rm.standby_of.url + self.path
                    self._send(307, f"This is standby RM. The redirect url is: {target}", "text/plain", Location=target)
                    return
                segments = urlsplit(self.path).path.rstrip("/").split("/")
                app = rm.apps.get(segments[5]) if len(segments) >= 6 else None
                if segments[:5] != ["", "ws", "v1", "cluster", "apps"] or app is None:
                    message = f"java.lang.Exception: app with id: {segments[-1]} not found"
                    remote = {"exception": "NotFoundException", "message": message}
                    self._send(404, {"RemoteException": remote})
                elif len(segments) == 6 and self.command == "GET":
                    self._send(200, {"app": app.json()})
                elif len(segments) == 7 and segments[6] == "state" and self.command == "PUT":
                    assert json.loads(body or b"{}").get("state") == "KILLED"
                    if app.state in FINAL:
                        self._send(200, {"state": app.state})
                    else:
                        app.kill_requested = True
                        self._send(202, {"state": app.state}, Location=f"{rm.url}{self.path}")
                else:
                    self._send(404, f"<html><title>404 {self.path}</title></html>", "text/html")

            do_GET = do_PUT = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
