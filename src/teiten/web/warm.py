"""Making the dashboard's standard answers ahead (``[cache] warm``, on by default).

Whenever the store's version changes (at start; when a collector or an ingest stores a
batch, a retag, a removal), a background thread makes what a first visitor of the
dashboard would wait for, in the order a visitor asks: for each of the period picker's
presets (the last 7 days of data, which is the default period, then its month and its
quarter) the overview and the charts it draws (its sparklines, the store's version it
polls), then the series, phenomena, events and infected hosts pages and their charts.
Pages are built by their own code (:func:`teiten.web.pages.first_visit`), so what is
made is what they ask.

One answer at a time, and none while a client's answer is being made: warming never
holds up a request, it only fills the cache between them. A new version starts it over.
In public mode it makes the public view (rounded, without addresses, a period not
published yet skipped), the one its visitors get; on an operator server the operators'
one. Progress is in ``/api/v1/health`` (``"warm": {"state", "done", "of"}``, counting
the requests of a first visit: pages and charts) and in the metrics.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from teiten.errors import ParameterError, TeitenError, WarmingStale
from teiten.web.answers import store_version

if TYPE_CHECKING:
    from teiten.web.app import _Access, _Server

__all__ = ["Warmer"]

log = logging.getLogger("teiten.web")

PAGES_FIRST = ("overview",)  # for every preset before the other pages of any
PAGES_THEN = ("series", "phenomena", "events", "infected")
_IDLE_POLL_S = 0.05


class Warmer:
    """The thread making the standard answers of each store version."""

    def __init__(self, server: _Server, access: _Access, *, every: float = 2.0) -> None:
        self._server = server
        self._access = access  # the view its visitors get
        self._every = every  # seconds between looks at the store's version
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._version: str | None = None  # the version warmed (or being warmed)
        self.done = 0
        self.of = 0
        self.finished = False
        self.failed = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="teiten-warm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def state(self) -> dict[str, Any]:
        """``{"state": "warming" | "done" | "failed", "done": n, "of": m}`` for the
        current version (``of`` grows as the overview's charts are known)."""
        current = self._version == store_version(self._server.store)[0]
        state = "failed" if self.failed else "done" if self.finished and current else "warming"
        return {"state": state, "done": self.done, "of": self.of}

    def _run(self) -> None:
        while not self._stopping.is_set():
            version = store_version(self._server.store)[0]
            if version != self._version:
                try:
                    self._warm(version)
                except WarmingStale:
                    continue
                except Exception:  # never let the thread die: answers are made on demand
                    log.exception("warming the dashboard's answers failed")
                    self.failed = True
            self._wake.wait(self._every)
            self._wake.clear()

    def _warm(self, version: str) -> None:
        from teiten.web.pages import last_day, preset_periods

        self._version, self.done, self.of = version, 0, 0
        self.finished = self.failed = False
        self._metrics()
        started = time.perf_counter()
        periods = preset_periods(last_day(self._server))
        self.of += len(periods) * (len(PAGES_FIRST) + len(PAGES_THEN))
        for pages in (PAGES_FIRST, PAGES_THEN):
            for period in periods:
                for page in pages:
                    self._page(version, page, period)
        self.finished = True
        self._metrics()
        log.info(
            "made the dashboard's %d standard answers ahead in %.1f s",
            self.done,
            time.perf_counter() - started,
        )

    def _page(self, version: str, page: str, period: str) -> None:
        """A page and then its charts, as a first visitor's browser asks for them."""
        from teiten.web.pages import first_visit

        charts: list[str] = []

        def build() -> None:
            charts.extend(first_visit(self._server, self._access, page, period))

        if not self._step(version, build):
            return
        self.of += len(charts)
        for url in charts:
            self._step(version, partial(self._chart, url))

    def _chart(self, url: str) -> None:
        """Make the answer of an API URL a page's script asks for."""
        from teiten.web.api import ENDPOINTS

        parts = urlsplit(url)
        route = parts.path.removeprefix("/api/v1/")
        server = self._server
        if route == "store":
            asked = server.store_asked(self._access)
        else:
            endpoint = next(e for e in ENDPOINTS if e.path == route)
            asked = server.endpoint_asked(endpoint, parse_qsl(parts.query), self._access)
        server.held(asked, for_client=False)

    def _step(self, version: str, make: Callable[[], object]) -> bool:
        """Run ``make`` once no client's answer is being made; whether it gave an
        answer (a period not published yet, or one the store refuses, gives none)."""
        while self._server.cache.busy and not self._stopping.is_set():
            time.sleep(_IDLE_POLL_S)
        if self._stopping.is_set() or store_version(self._server.store)[0] != version:
            raise WarmingStale
        try:
            make()
            return True
        except (ParameterError, TeitenError) as exc:
            log.debug("not made ahead: %s", exc)
            return False
        finally:
            self.done += 1
            self._metrics()

    def _metrics(self) -> None:
        metrics = self._server.metrics
        metrics.warm_done.set(self.done)
        metrics.warm_planned.set(self.of)
