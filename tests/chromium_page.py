"""One headless Chromium page for the Airflow UI checks, driven by Playwright.

Playwright drives Debian's ``chromium`` binary (``executable_path``): no browser is downloaded. The
Airflow 3 UI is a React app, so a page counts as loaded only once its text shows up; :meth:`Page.open`
and :meth:`Page.wait_for_text` wait for that with a deadline and, on a timeout, say what the page showed.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page as PlaywrightPage
from playwright.sync_api import sync_playwright

# No sandbox (root in CI), no GPU, nothing phoning home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def find_chromium() -> str | None:
    """Debian's ``chromium`` (or another Chromium/Chrome binary on PATH)."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class PageNotReady(AssertionError):
    """The page did not show the expected text in time (message carries what it showed instead)."""


class Page:
    """What the UI checks do with a page: open and wait for text, read links, click, screenshot."""

    def __init__(self, page: PlaywrightPage) -> None:
        self.page = page

    def evaluate(self, expression: str) -> Any:
        return self.page.evaluate(expression)

    def open(self, url: str, *, wait_for: list[str], timeout: float = 60.0) -> str:
        """Navigate and wait until every string of ``wait_for`` is in the page's visible text; return it."""
        self.page.goto(url, timeout=timeout * 1000)
        return self.wait_for_text(wait_for, timeout=timeout, where=url)

    def wait_for_text(self, wait_for: list[str], *, timeout: float = 60.0, where: str = "the page") -> str:
        """Wait (without navigating) until the visible text holds every string of ``wait_for``."""
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = str(self.page.evaluate("document.body ? document.body.innerText : ''") or "")
            if all(expected in text for expected in wait_for):
                return text
            time.sleep(0.5)
        missing = [expected for expected in wait_for if expected not in text]
        raise PageNotReady(f"{where} did not show {missing} within {timeout:.0f}s; it showed:\n{text[:3000]}")

    def sign_in(self, url: str, token: str) -> None:
        """Carry ``token`` as Airflow's session cookie (``_token``, what the login page sets) for ``url``."""
        self.page.context.add_cookies([{"name": "_token", "value": token, "url": url}])

    def wait_for_frame_text(
        self, selector: str, wait_for: list[str], *, timeout: float = 60.0, where: str = "the iframe"
    ) -> str:
        """Like :meth:`wait_for_text`, inside the iframe matching the CSS ``selector``."""
        deadline = time.monotonic() + timeout
        text = ""
        body = self.page.frame_locator(selector).locator("body")
        while time.monotonic() < deadline:
            try:
                text = body.inner_text(timeout=2000)
            except Exception:  # not attached or navigating yet: look again
                text = ""
            if all(expected in text for expected in wait_for):
                return text
            time.sleep(0.5)
        missing = [expected for expected in wait_for if expected not in text]
        frames = [f.url for f in self.page.frames]
        raise PageNotReady(
            f"{where} did not show {missing} within {timeout:.0f}s (frames: {frames}); it showed:\n{text[:3000]}"
        )

    def links(self) -> dict[str, str]:
        """Visible text -> href of every ``<a>`` on the page (what a user can click)."""
        pairs = self.page.evaluate(
            "Array.from(document.querySelectorAll('a[href]')).map(a => [a.innerText.trim(), a.href])"
        )
        return {text: href for text, href in pairs or [] if text}

    def click_text(self, text: str) -> bool:
        """Click (real mouse events, as a user would) the first button, else element, showing exactly ``text``."""
        for locator in (
            self.page.get_by_role("button", name=text, exact=True),
            self.page.get_by_text(text, exact=True),
        ):
            if locator.count():
                locator.first.click()
                return True
        return False

    def scroll_to_text(self, text: str) -> None:
        """Bring the first element showing ``text`` into view (for the screenshot)."""
        locator = self.page.get_by_text(text, exact=True)
        if locator.count():
            locator.first.scroll_into_view_if_needed()
        time.sleep(0.5)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))
        return path


@contextmanager
def headless_chromium(binary: str, *, width: int = 1440, height: int = 1000) -> Iterator[Page]:
    """Debian's Chromium, headless, with a fresh context; always closed."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": width, "height": height})
            yield Page(context.new_page())
        finally:
            browser.close()
