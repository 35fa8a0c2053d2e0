"""An emulated YARN ResourceManager whose applications run the real Flink job on the local cluster.

No Hadoop can run here, so this speaks the RM REST API as documented (``/ws/v1/cluster/apps/{id}``,
``?applicationTags=`` any-of and lower-cased, ``{"apps": null}`` when nothing matches, ``PUT .../state``
202 then 200, 400 ``BadRequestException``, 404 ``RemoteException``, a standby RM's 307) and serves
``/proxy/<app id>/`` in front of Flink's REST API like the YARN web proxy. An "application" is what
``flink run -t yarn-application`` would deploy: the argv (recorded by a fake ``flink`` executable and
posted to ``/emulator/submit``) is parsed, and its jar, entry class, program arguments, job id and
Flink config are run on the real session cluster, so states, timings and root causes are Flink's own.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

_CLUSTER_ONLY = (
    "yarn.",
    "jobmanager.memory.",
    "taskmanager.memory.",
    "taskmanager.numberOfTaskSlots",
    "security.kerberos.",
    "$internal.",
)


def parse_flink_run(argv: list[str]) -> dict[str, Any]:
    """What ``flink run`` would deploy, from its argv (options until the jar, then program arguments)."""
    if not argv or argv[0] != "run":
        raise ValueError(f"expected the 'run' action, got {argv[:1]}")
    config: dict[str, str] = {}
    target = main_class = None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        opt = argv[i]
        if opt in ("-t", "--target"):
            target, i = argv[i + 1], i + 2
        elif opt in ("-c", "--class"):
            main_class, i = argv[i + 1], i + 2
        elif opt == "-D":
            key, _, value = argv[i + 1].partition("=")
            config[key], i = value, i + 2
        elif opt.startswith("-D"):
            key, _, value = opt[2:].partition("=")
            config[key], i = value, i + 1
        elif opt in ("-d", "--detached"):
            i += 1
        else:
            raise ValueError(f"option {opt} is not emulated")
    if target != "yarn-application":
        raise ValueError(f"-t {target}: this emulator deploys yarn-application only")
    return {"config": config, "main_class": main_class, "jar": argv[i], "args": argv[i + 1 :]}


@dataclass
class App:
    id: str
    name: str
    queue: str
    tags: list[str]
    job_id: str
    deployment: dict[str, Any]
    user: str = "airflow"
    state: str = "ACCEPTED"
    final_status: str = "UNDEFINED"
    diagnostics: str = ""
    started: int = field(default_factory=lambda: int(time.time() * 1000))
    finished: int = 0
    kill_requested: bool = False
    tracking_url: str = ""

    def json(self) -> dict[str, Any]:
        now = self.finished or int(time.time() * 1000)
        return {
            "id": self.id,
            "user": self.user,
            "name": self.name,
            "queue": self.queue,
            "state": self.state,
            "finalStatus": self.final_status,
            "progress": 100.0 if self.finished else 0.0,
            "trackingUI": "History" if self.finished else "ApplicationMaster",
            "trackingUrl": self.tracking_url,
            "diagnostics": self.diagnostics,
            "applicationType": "Apache Flink",
            "applicationTags": ",".join(self.tags),
            "startedTime": self.started,
            "finishedTime": self.finished,
            "elapsedTime": now - self.started,
        }


class RmEmulator:
    """One emulated RM (``standby_of`` set: a standby that redirects everything to that RM)."""

    def __init__(
        self, flink_rest_url: str = "", *, standby_of: RmEmulator | None = None, standby_redirects: bool = True
    ) -> None:
        self.flink = flink_rest_url
        self.standby_of = standby_of
        self.standby_redirects = standby_redirects
        self.apps: dict[str, App] = {}
        self.cluster_ts = int(time.time() * 1000)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.accept_delay = 0.3
        self._jars: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        for app in list(self.apps.values()):
            if app.state not in ("FINISHED", "FAILED", "KILLED"):
                app.kill_requested = True
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ applications
    def submit(self, argv: list[str]) -> str:
        deployment = parse_flink_run(argv)
        config = deployment["config"]
        with self.lock:
            app_id = f"application_{self.cluster_ts}_{len(self.apps) + 1:04d}"
            app = App(
                id=app_id,
                name=config.get("yarn.application.name", "Flink Application Cluster"),
                queue=config.get("yarn.application.queue", "default"),
                tags=[t.strip().lower() for t in config.get("yarn.tags", "").split(",") if t.strip()],
                job_id=config["$internal.pipeline.job-id"],
                deployment=deployment,
            )
            self.apps[app_id] = app
        threading.Thread(target=self._run, args=(app,), daemon=True).start()
        return app_id

    def add_static(self, name: str, tags: list[str], state: str = "RUNNING", final: str = "UNDEFINED") -> App:
        """An application record without a Flink job (for RM protocol tests)."""
        with self.lock:
            app_id = f"application_{self.cluster_ts}_{len(self.apps) + 1:04d}"
            app = App(app_id, name, "default", [t.lower() for t in tags], "0" * 32, {}, state=state, final_status=final)
            self.apps[app_id] = app
        return app

    def _end(self, app: App, state: str, final: str, diagnostics: str = "") -> None:
        app.state, app.final_status, app.diagnostics = state, final, diagnostics
        app.finished = int(time.time() * 1000)
        app.tracking_url = f"{self.url}/cluster/app/{app.id}"

    def _jar_id(self, path: str) -> str:
        if path not in self._jars:
            with open(path, "rb") as handle:
                answer = requests.post(
                    f"{self.flink}/jars/upload",
                    files={"jarfile": (Path(path).name, handle, "application/x-java-archive")},
                    timeout=60,
                )
            answer.raise_for_status()
            self._jars[path] = answer.json()["filename"].rsplit("/", 1)[-1]
        return self._jars[path]

    def _run(self, app: App) -> None:
        try:
            self._lifecycle(app)
        except requests.RequestException as err:  # the Flink cluster went away (end of the test session)
            self._end(app, "FAILED", "FAILED", f"Application Master lost: {err}")

    def _lifecycle(self, app: App) -> None:
        """ACCEPTED -> RUNNING (JobManager up: main() submits the job) -> final, like Flink on YARN."""
        time.sleep(self.accept_delay)
        if app.kill_requested:
            self._end(app, "KILLED", "KILLED", "Application killed by user.")
            return
        deployment = app.deployment
        config = {k: v for k, v in deployment["config"].items() if not k.startswith(_CLUSTER_ONLY)}
        try:
            answer = requests.post(
                f"{self.flink}/jars/{self._jar_id(deployment['jar'])}/run",
                json={
                    "entryClass": deployment["main_class"],
                    "programArgsList": deployment["args"],
                    "jobId": app.job_id,
                    "flinkConfiguration": config,
                },
                timeout=120,
            )
        except requests.RequestException as err:
            self._end(app, "FAILED", "FAILED", f"Application Master failed to start: {err}")
            return
        if answer.status_code >= 400:  # main() threw before the job existed: the application fails
            errors = " | ".join(answer.json().get("errors", [answer.text]))
            self._end(
                app,
                "FAILED",
                "FAILED",
                f"Application {app.id} failed 1 times (global limit =1; local limit is =1) due to "
                f"ApplicationMaster for attempt {app.id}_000001 exited. Diagnostics: "
                f"org.apache.flink.util.FlinkException: Application failed unexpectedly: {errors}",
            )
            return
        app.state, app.tracking_url = "RUNNING", f"{self.url}/proxy/{app.id}/"
        while True:
            if app.kill_requested:
                requests.patch(f"{self.flink}/jobs/{app.job_id}", params={"mode": "cancel"}, timeout=10)
                self._end(app, "KILLED", "KILLED", f"Application {app.id} was killed by user airflow")
                return
            status = requests.get(f"{self.flink}/jobs/{app.job_id}/status", timeout=10).json().get("status")
            if status == "FINISHED":
                self._end(app, "FINISHED", "SUCCEEDED")
                return
            if status == "CANCELED":
                self._end(app, "FINISHED", "KILLED", "Flink job was cancelled")
                return
            if status == "FAILED":
                entries = (
                    requests.get(f"{self.flink}/jobs/{app.job_id}/exceptions", timeout=10)
                    .json()
                    .get("exceptionHistory", {})
                    .get("entries", [])
                )
                cause = entries[0]["stacktrace"].splitlines()[0] if entries else "unknown"
                self._end(app, "FINISHED", "FAILED", f"Flink job {app.job_id} failed: {cause}")
                return
            time.sleep(0.2)

    # ------------------------------------------------------------------ HTTP
    def _handler(self) -> type[BaseHTTPRequestHandler]:
        rm = self

        class Handler(BaseHTTPRequestHandler):
            def _send(
                self,
                status: int,
                body: Any,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None,
            ) -> None:
                data = (json.dumps(body) if content_type == "application/json" else str(body)).encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _remote(self, status: int, exception: str, message: str) -> None:
                java = {
                    "NotFoundException": "org.apache.hadoop.yarn.webapp.NotFoundException",
                    "BadRequestException": "org.apache.hadoop.yarn.webapp.BadRequestException",
                }[exception]
                self._send(
                    status, {"RemoteException": {"exception": exception, "message": message, "javaClassName": java}}
                )

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                rm.requests.append((self.command, self.path))
                if rm.standby_of is not None and not rm.standby_redirects:  # standby that knows no active RM
                    self._send(200, "This is standby RM. Redirecting to the current active RM: unknown", "text/plain")
                    return
                if rm.standby_of is not None:
                    target = rm.standby_of.url + self.path
                    self._send(
                        307, f"This is standby RM. The redirect url is: {target}", "text/plain", {"Location": target}
                    )
                    return
                parts = urlsplit(self.path)
                path, query = parts.path.rstrip("/"), parse_qs(parts.query)
                if path == "/emulator/submit":
                    try:
                        self._send(200, {"id": rm.submit(json.loads(body)["argv"])})
                    except (ValueError, KeyError) as err:
                        self._send(400, {"error": str(err)})
                    return
                if path.startswith("/proxy/"):
                    self._proxy(parts, body)
                    return
                if path.startswith("/cluster/app/"):
                    app_id = path.rsplit("/", 1)[-1]
                    self._send(200 if app_id in rm.apps else 404, f"<html><title>{app_id}</title></html>", "text/html")
                    return
                if path == "/ws/v1/cluster/apps" and self.command == "GET":
                    wanted = {
                        t.strip().lower() for t in ",".join(query.get("applicationTags", [])).split(",") if t.strip()
                    }
                    states = {s.upper() for s in ",".join(query.get("states", [])).split(",") if s}
                    found = [
                        a.json()
                        for a in rm.apps.values()
                        if (not wanted or wanted & set(a.tags)) and (not states or a.state in states)
                    ]
                    self._send(200, {"apps": {"app": found} if found else None})
                    return
                segments = path.split("/")
                if len(segments) >= 6 and segments[:5] == ["", "ws", "v1", "cluster", "apps"]:
                    app = rm.apps.get(segments[5])
                    if not segments[5].startswith("application_"):
                        self._remote(400, "BadRequestException", f"Invalid ApplicationId: {segments[5]}")
                        return
                    if app is None:
                        self._remote(
                            404, "NotFoundException", f"java.lang.Exception: app with id: {segments[5]} not found"
                        )
                        return
                    if len(segments) == 6 and self.command == "GET":
                        self._send(200, {"app": app.json()})
                        return
                    if len(segments) == 7 and segments[6] == "state":
                        if self.command == "GET":
                            self._send(200, {"state": app.state})
                            return
                        if self.command == "PUT":
                            self._kill(app, body)
                            return
                self._send(404, f"<html><title>404 {self.path}</title></html>", "text/html")

            def _kill(self, app: App, body: bytes) -> None:
                wanted = json.loads(body or b"{}").get("state")
                if wanted != "KILLED":
                    self._remote(400, "BadRequestException", "Only 'KILLED' is allowed as a target state.")
                    return
                if app.state in ("FINISHED", "FAILED", "KILLED"):
                    self._send(200, {"state": app.state})
                    return
                app.kill_requested = True
                self._send(202, {"state": app.state}, headers={"Location": f"{rm.url}{self.path}"})

            def _proxy(self, parts: Any, body: bytes) -> None:
                app_id, _, rest = parts.path[len("/proxy/") :].partition("/")
                app = rm.apps.get(app_id)
                if app is None:
                    self._send(404, f"<html><title>Application {app_id} not found</title></html>", "text/html")
                    return
                if app.state != "RUNNING":  # not started yet, or its JobManager is gone: the RM's page
                    self._send(302, "", "text/html", {"Location": f"{rm.url}/cluster/app/{app_id}"})
                    return
                url = f"{rm.flink}/{rest}" + (f"?{parts.query}" if parts.query else "")
                answer = requests.request(
                    self.command,
                    url,
                    data=body or None,
                    timeout=30,
                    headers={"content-type": self.headers.get("content-type", "")},
                )
                self._send(answer.status_code, answer.text, answer.headers.get("content-type", "text/plain"))

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


FAKE_FLINK = '''#!{python}
"""A stand-in for Flink's bin/flink on a YARN client host: records its argv and environment, asks the
emulated ResourceManager to deploy the application, and prints what the real CLI prints."""
import json, os, sys, urllib.request

argv = sys.argv[1:]
with open({record!r}, "a") as out:
    env = {{k: os.environ.get(k) for k in ("FLINK_HOME", "HADOOP_CONF_DIR", "HADOOP_CLASSPATH")}}
    out.write(json.dumps({{"argv": argv, "env": env}}) + "\\n")
mode = os.environ.get("FAKE_FLINK_MODE", "normal")
if mode == "fail":
    print("org.apache.flink.client.program.ProgramInvocationException: Could not deploy Yarn job cluster.",
          file=sys.stderr)
    sys.exit(1)
request = urllib.request.Request({rm!r} + "/emulator/submit", data=json.dumps({{"argv": argv}}).encode(),
                                 headers={{"Content-Type": "application/json"}}, method="POST")
app = json.load(urllib.request.urlopen(request, timeout=30))["id"]
if mode == "quiet":  # log lines went to the log file only: nothing to parse
    sys.exit(0)
print("INFO  org.apache.flink.yarn.YarnClusterDescriptor [] - Submitting application master " + app)
print("INFO  org.apache.hadoop.yarn.client.api.impl.YarnClientImpl [] - Submitted application " + app)
print("INFO  org.apache.flink.yarn.YarnClusterDescriptor [] - Found Web Interface 127.0.0.1:8081 of "
      "application '" + app + "'.")
'''


def write_fake_flink(flink_home: Path, rm_url: str, record: Path) -> Path:
    """``<flink_home>/bin/flink``: the fake CLI, talking to the emulator at ``rm_url``."""
    import sys

    script = flink_home / "bin" / "flink"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(FAKE_FLINK.format(python=sys.executable, record=str(record), rm=rm_url))
    script.chmod(0o755)
    return script


def recorded(record: Path) -> list[dict[str, Any]]:
    """Every invocation of the fake CLI so far."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line.strip()]
