"""Fixtures of the web tests: the store they serve, and a real browser (Debian's
chromium; see browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from _cli_store import build_store

from ._server import WebServer
from .browser import WatchedPage, browser_session

if TYPE_CHECKING:
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built by ingest: two real sensors, and the simulator's four (PERIOD)."""
    return build_store(tmp_path_factory.mktemp("web"), simulated=True)


_BUDGET = {"requests_per_minute": 100_000, "burst": 100_000}  # the tests ask a lot at once


@pytest.fixture(scope="session")
def operator(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """A lone analyst's server over ``store``: loopback, no tokens in the store."""
    server = WebServer(tmp_path_factory.mktemp("operator"), store, limits=_BUDGET).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def public(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """A public server over ``store``."""
    server = WebServer(
        tmp_path_factory.mktemp("public"), store, access={"public": True}, limits=_BUDGET
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless chromium for the whole run (started by the first test that asks)."""
    with browser_session() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[WatchedPage]:
    """A new page in a fresh context (no cookies or storage from other tests) that records
    console errors, uncaught exceptions and failed requests (``page.problems``)."""
    context = browser.new_context()
    try:
        yield WatchedPage(context.new_page())
    finally:
        context.close()
