"""Fixtures for tests in a real browser (Debian's chromium; see browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from .browser import WatchedPage, browser_session

if TYPE_CHECKING:
    from playwright.sync_api import Browser


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
