"""A stand-in JobManager that replays real Flink 2.3 REST answers for many jobs finishing over time.

The JSON comes from ``tests/data/flink-2.3-job-responses.json`` (captured from the local cluster);
only ids, names, states and times change. Used where thousands of jobs are needed at once (trigger
coalescing tests and the triggerer benchmark), which one local cluster cannot run.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

CAPTURED = json.loads((Path(__file__).parent / "data" / "flink-2.3-job-responses.json").read_text())


@dataclass
class ReplayJob:
    job_id: str
    started: float  # epoch seconds
    finish_at: float | None = None  # epoch seconds, or
    finish_after_polls: int | None = None  # overview requests after which it shows FINISHED
    state_when_done: str = "FINISHED"

    def state(self, now: float, polls: int | None) -> str:
        """``polls``: overview requests since the replay was released (None while held)."""
        if self.finish_at is not None and now >= self.finish_at:
            return self.state_when_done
        if self.finish_after_polls is not None and polls is not None and polls >= self.finish_after_polls:
            return self.state_when_done
        return "RUNNING"


@dataclass
class FlinkReplay:
    jobs: dict[str, ReplayJob] = field(default_factory=dict)
    overview_requests: int = 0
    detail_requests: int = 0
    down: bool = False  # answer 503 like a proxy in front of a JobManager that is gone
    released_at: int | None = 0  # overview count when jobs may start finishing (None: hold them all RUNNING)
    url: str = ""
    ended_seen: dict[str, float] = field(default_factory=dict)  # job -> when an answer first showed it ended
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, job: ReplayJob) -> None:
        self.jobs[job.job_id] = job

    def hold(self) -> None:
        self.released_at = None

    def release(self) -> None:
        with self._lock:
            self.released_at = self.overview_requests

    def _since_release(self) -> int | None:
        return None if self.released_at is None else self.overview_requests - self.released_at

    def _entry(self, job: ReplayJob, now: float, polls: int | None) -> dict[str, Any]:
        state = job.state(now, polls)
        entry = dict(CAPTURED["overview_entry"])
        start_ms = int(job.started * 1000)
        end_ms = int((job.finish_at or now) * 1000) if state != "RUNNING" else -1
        entry.update({"jid": job.job_id, "name": f"replay.{job.job_id[:8]}", "state": state, "start-time": start_ms})
        entry.update({"end-time": end_ms, "duration": (end_ms if end_ms > 0 else int(now * 1000)) - start_ms})
        if state != "RUNNING":
            self.ended_seen.setdefault(job.job_id, now)
        return entry

    def overview(self) -> dict[str, Any]:
        with self._lock:
            self.overview_requests += 1
            polls = self._since_release()
        now = time.time()
        return {"jobs": [self._entry(job, now, polls) for job in list(self.jobs.values())]}

    def details(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            self.detail_requests += 1
            polls = self._since_release()
        job = self.jobs.get(job_id)
        if job is None:
            return None
        entry = self._entry(job, time.time(), polls)
        details = copy.deepcopy(CAPTURED["job_details"])
        details.update({k: entry[k] for k in ("jid", "name", "state", "start-time", "end-time", "duration")})
        return details


def start_replay(script: FlinkReplay | None = None) -> tuple[FlinkReplay, ThreadingHTTPServer]:
    replay = script or FlinkReplay()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they do with Flink
        # headers and body go out as they are written, as Flink's Netty sends them: with Nagle's algorithm the
        # body waits for the client's delayed ACK (~40 ms per answer on a kept-alive connection)
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            status, body = 200, cast(Any, None)
            if replay.down:
                status, body = 503, {"errors": ["Service Unavailable"]}
            elif path == "/_stats":  # the benchmark's counters, not a Flink endpoint
                body = {"overview": replay.overview_requests, "details": replay.detail_requests}
            elif path == "/jobs/overview":
                body = replay.overview()
            elif path.startswith("/jobs/") and path.count("/") == 2:
                body = replay.details(path.rsplit("/", 1)[1])
                if body is None:
                    status, body = 404, {"errors": ["Job could not be found."]}
            else:
                status, body = 404, {"errors": ["Not found: " + path]}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 4096  # listen backlog as Flink's Netty sets it (the OS maximum), not socketserver's 5

        def handle_error(self, request: Any, client_address: Any) -> None:
            import sys

            if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that went away is not news
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    replay.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return replay, server
