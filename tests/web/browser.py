"""Pages in a real browser for the tests: Debian's chromium driven by Playwright.

Playwright's PyPI wheel brings its driver; the browser is ``/usr/bin/chromium`` from
Debian (``make test`` installs it), never one Playwright downloads (no ``playwright
install``). The ``browser`` and ``page`` fixtures (``conftest.py`` here) are built from
this module; :class:`StaticServer` serves files on loopback for pages that need no
``teiten serve`` (and for a fake npm registry).
"""

from __future__ import annotations

import contextlib
import mimetypes
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

CHROMIUM = Path("/usr/bin/chromium")
# Without the networking flags chromium calls Google's hosts at start, refused here
# (docs: /work/.library/env/machines/python.md); headless=True adds --headless, and each
# launch gets a new empty profile (--user-data-dir) from Playwright.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: How long a page action or wait may take before the test fails (ms).
TIMEOUT_MS = 10_000


@contextlib.contextmanager
def browser_session() -> Iterator[Browser]:
    """Debian's chromium, headless, under Playwright; fails the test if either is missing.

    While it runs, Playwright's event loop counts as running in this thread:
    ``asyncio.run`` here fails, in another thread it works (Starlette's TestClient uses one).
    """
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests use Debian's chromium; run `make test`, "
            "which installs Debian's chromium (never a browser Playwright downloads)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed; `make setup` installs the dev extras")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield browser
        finally:
            browser.close()


class WatchedPage:
    """A Playwright page that keeps what went wrong in it, for a test to assert on.

    ``console_errors``: console messages of type error (a script's ``console.error``,
    a refused Content-Security-Policy, a resource that failed to load); ``page_errors``:
    uncaught exceptions; ``failed_requests``: requests that got no answer or an HTTP
    status of 400 or more — but a request the browser aborted because the page it was
    made from was left (a poll in flight when a link is followed). Every other
    attribute is the page's own.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.failed_requests: list[str] = []
        self._navigations = 0  # documents the page has asked for so far
        self._made_from: dict[Request, int] = {}  # the document each request was made from
        page.set_default_timeout(TIMEOUT_MS)
        page.on("request", self._on_request)
        page.on("requestfinished", lambda request: self._made_from.pop(request, None))
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    @property
    def problems(self) -> list[str]:
        """Everything recorded, one line each."""
        return [
            *(f"console error: {e}" for e in self.console_errors),
            *(f"page error: {e}" for e in self.page_errors),
            *(f"failed request: {e}" for e in self.failed_requests),
        ]

    def assert_clean(self) -> None:
        """Fail the test if anything went wrong in the page so far."""
        if problems := self.problems:
            pytest.fail("the page reported problems:\n  " + "\n  ".join(problems))

    def clear(self) -> None:
        """Forget what was recorded (after a test has checked an expected problem)."""
        self.console_errors.clear()
        self.page_errors.clear()
        self.failed_requests.clear()

    def save_screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page at ``path`` (folders made); ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location
            url = where.get("url")
            place = f" ({url}:{where.get('lineNumber', 0)})" if url else ""
            self.console_errors.append(message.text + place)

    def _on_page_error(self, error: Exception) -> None:
        self.page_errors.append(str(error))

    def _on_request(self, request: Request) -> None:
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._navigations += 1
        self._made_from[request] = self._navigations

    def _on_request_failed(self, request: Request) -> None:
        left = self._made_from.pop(request, self._navigations) != self._navigations
        if left and request.failure == "net::ERR_ABORTED":
            return  # the page it was made for is gone: the browser dropped it, as it should
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            request = response.request
            self.failed_requests.append(f"{request.method} {request.url}: HTTP {response.status}")


class StaticServer:
    """An HTTP server on a free loopback port, in a thread, serving fixed files.

    ``files`` maps a URL path (``/index.html``) to bytes or a file; every answer carries
    ``headers``; anything else is 404. ``requests`` lists the paths asked for, in order.
    Use as a context manager.
    """

    def __init__(
        self, files: Mapping[str, bytes | Path], headers: Mapping[str, str] | None = None
    ) -> None:
        self.files = dict(files)
        self.headers = dict(headers or {})
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StaticServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append(path)
                body = server.files.get(path)
                if isinstance(body, Path):
                    body = body.read_bytes()
                if body is None:
                    self.send_response(404)
                    body = b"not found\n"
                    kind = "text/plain"
                else:
                    self.send_response(200)
                    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the tests read ``requests``

        return Handler
