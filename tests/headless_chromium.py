"""Headless Chromium driven over the DevTools protocol, for the browser checks of the Airflow UI.

The Airflow 3 UI is a React app: the HTML the server sends is an empty shell, so a page is "loaded"
only once its text shows up. ``--dump-dom`` cannot wait for that; the DevTools protocol can (we poll
``document.body.innerText`` until the expected text is there, with a deadline).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The flags the issue asks for: no sandbox (root in CI), no GPU, nothing phoning home, a fresh profile.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def find_chromium() -> str | None:
    """Debian's ``chromium`` (or another Chromium/Chrome binary on PATH)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class PageNotReady(AssertionError):
    """The page did not show the expected text in time (message carries what it showed instead)."""


class Browser:
    """One page in one headless Chromium; methods block with explicit timeouts."""

    def __init__(self, ws_url: str) -> None:
        import websocket  # websocket-client (sync)

        self._ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and wait for its answer (events in between are dropped)."""
        message_id = next(self._ids)
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._ws.settimeout(max(0.1, deadline - time.monotonic()))
            reply = json.loads(self._ws.recv())
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"DevTools {method} failed: {reply['error']}")
                return dict(reply.get("result", {}))
        raise TimeoutError(f"DevTools {method} gave no answer in {timeout:.0f}s")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} raised in the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str, *, wait_for: list[str], timeout: float = 60.0) -> str:
        """Navigate and wait until every string of ``wait_for`` is in the page's visible text; return it."""
        self.call("Page.navigate", url=url)
        return self.wait_for_text(wait_for, timeout=timeout, where=url)

    def wait_for_text(self, wait_for: list[str], *, timeout: float = 60.0, where: str = "the page") -> str:
        """Wait (without navigating) until the visible text holds every string of ``wait_for``."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = str(self.evaluate("document.body ? document.body.innerText : ''") or "")
            if all(expected in text for expected in wait_for):
                return text
            time.sleep(0.5)
        missing = [expected for expected in wait_for if expected not in text]
        raise PageNotReady(f"{where} did not show {missing} within {timeout:.0f}s; it showed:\n{text[:3000]}")

    def links(self) -> dict[str, str]:
        """Visible text -> href of every ``<a>`` on the page (what a user can click)."""
        pairs = self.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => [a.innerText.trim(), a.href])")
        return {text: href for text, href in pairs or [] if text}

    def click_text(self, text: str) -> bool:
        """Click (real mouse events, as a user would) the first button whose visible text is ``text``."""
        point = self.evaluate(
            "(() => { const match = sel => Array.from(document.querySelectorAll(sel))"
            f".filter(e => e.innerText && e.innerText.trim() === {json.dumps(text)});"
            " const all = match('button, [role=button]').concat(match('body *'));"
            " if (!all.length) return null; all[0].scrollIntoView({block: 'center'});"
            " const r = all[0].getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        if not point:
            return False
        x, y = point
        self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        return True

    def scroll_to_text(self, text: str) -> None:
        """Bring the innermost element showing ``text`` into view (for the screenshot)."""
        self.evaluate(
            "(() => { const all = Array.from(document.querySelectorAll('body *'))"
            f".filter(e => e.children.length === 0 && e.innerText && e.innerText.trim() === {json.dumps(text)});"
            " if (all.length) all[0].scrollIntoView({block: 'center'}); })()"
        )
        time.sleep(0.5)

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self._ws.close()


@contextmanager
def headless_chromium(
    binary: str, *, width: int = 1440, height: int = 1000, timeout: float = 60.0
) -> Iterator[Browser]:
    """Start Chromium with an empty profile on a free DevTools port; always stop it and remove the profile."""
    import requests

    profile = Path(tempfile.mkdtemp(prefix="flinkbatch-chromium-"))
    # stderr to a file, not a pipe: nobody reads a pipe while the test runs, and a full one blocks Chromium.
    stderr_log = (profile.parent / f"{profile.name}.stderr").open("w+")
    process = subprocess.Popen(
        [
            binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=stderr_log,
        start_new_session=True,
    )
    browser: Browser | None = None
    try:
        port = _devtools_port(process, profile, Path(stderr_log.name), timeout)
        deadline = time.monotonic() + timeout
        page: dict[str, Any] | None = None
        while page is None and time.monotonic() < deadline:
            targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=5).json()
            page = next((t for t in targets if t.get("type") == "page"), None)
            if page is None:
                time.sleep(0.2)
        if page is None:
            raise RuntimeError("Chromium started but opened no page")
        browser = Browser(page["webSocketDebuggerUrl"])
        browser.call("Page.enable")
        browser.call(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
        )
        yield browser
    finally:
        if browser is not None:
            browser.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
        stderr_log.close()
        Path(stderr_log.name).unlink(missing_ok=True)


def _devtools_port(process: subprocess.Popen[bytes], profile: Path, stderr_log: Path, timeout: float) -> int:
    """Chromium writes the port it picked to ``<profile>/DevToolsActivePort`` (and to stderr)."""
    deadline = time.monotonic() + timeout
    active = profile / "DevToolsActivePort"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = stderr_log.read_text(errors="replace")
            raise RuntimeError(f"Chromium exited with {process.returncode}: {stderr[-2000:]}")
        if active.exists():
            first = active.read_text().splitlines()[:1]
            if first and re.fullmatch(r"\d+", first[0]):
                return int(first[0])
        time.sleep(0.1)
    raise TimeoutError(f"Chromium did not open its DevTools port within {timeout:.0f}s")
