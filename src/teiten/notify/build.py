"""Building a period's feeds: the findings once, then each recipient's rows and files.

The findings of every kind any recipient receives are read in one pass over the
period's rollup (:func:`teiten.notify.findings.find`); each recipient then takes the
sources in its ASes, networks or countries, and its statuses come from its previous
feed (:class:`teiten.notify.archive.Archive`). The header's editions are those the
manifest records for the batches holding the period's days.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from teiten.analyze.periods import Period
from teiten.enrich.addresses import network_spans
from teiten.notify.archive import Archive
from teiten.notify.config import NotifyConfig
from teiten.notify.feeds import make_feed, matches
from teiten.notify.findings import find
from teiten.store import Store

__all__ = ["BuildReport", "BuiltFeed", "build_feeds", "period_editions"]

_DAY_DIR = re.compile(r"day=(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class BuiltFeed:
    """One recipient's feed of the period: where it is kept and what it holds."""

    recipient: str
    path: Path
    changed: bool  # False: the kept feed had the same digest and stays as it was
    digest: str
    counts: dict[str, int]
    previous_period: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "recipient": self.recipient,
            "json": str(self.path),
            "csv": str(self.path.with_suffix(".csv")),
            "changed": self.changed,
            "digest": self.digest,
            "counts": self.counts,
            "previous_period": self.previous_period,
        }


@dataclass
class BuildReport:
    """The feeds of a period, the sources withheld as sensor addresses, and the time taken."""

    period: Period
    feeds: list[BuiltFeed] = field(default_factory=list)
    findings: int = 0  # rows found before recipients took theirs
    withheld_sensor_sources: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "findings": self.findings,
            "withheld_sensor_sources": self.withheld_sensor_sources,
            "seconds": round(self.seconds, 3),
            "feeds": [f.as_json() for f in self.feeds],
        }


def build_feeds(
    store: Store,
    config: NotifyConfig,
    period: Period,
    *,
    engine_name: str | None = None,
    now: datetime | None = None,
) -> BuildReport:
    """Build (or rebuild) every recipient's feed of ``period`` in ``store``."""
    from teiten import __version__
    from teiten.store import open_engine
    from teiten.store.retention import require_raw

    started = time.monotonic()
    # Sensor addresses are told apart with the raw packets too (IPv6 destinations).
    require_raw(store, period.start, period.last_day, f"the feeds of {period.label}")
    with open_engine(store, engine_name) as engine:
        found = find(engine, period, config.kinds(), config.thresholds)
    editions = period_editions(store, period)
    archive = Archive(store.root)
    report = BuildReport(period, findings=len(found.rows))
    report.withheld_sensor_sources = found.withheld_sensor_sources
    publisher = {"organisation": config.organisation, "contact": config.contact}
    for recipient in config.recipients:
        spans = network_spans(recipient.prefixes)
        previous = archive.previous(recipient.name, period)
        feed = make_feed(
            recipient,
            period,
            (s for s in found.rows if matches(s, recipient, spans)),
            previous,
            tlp=recipient.tlp or config.tlp,
            editions=editions,
            publisher=publisher,
            generated_at=now or datetime.now(UTC),
            generator=f"teiten {__version__}",
        )
        stored, changed = archive.write(feed)
        report.feeds.append(
            BuiltFeed(
                recipient.name,
                stored.path,
                changed,
                stored.feed.digest,
                stored.feed.counts,
                stored.feed.header["previous_period"],
            )
        )
    report.seconds = time.monotonic() - started
    return report


def period_editions(store: Store, period: Period) -> list[dict[str, str]]:
    """The geo/AS databases and editions of the committed batches holding a day of
    ``period`` (as the report's method section names them)."""
    editions: set[tuple[str, str]] = set()
    for batch in store.manifest.batches(state="committed"):
        days = {m[1] for _, target in batch.parts if (m := _DAY_DIR.search(target))}
        if any(period.start <= date.fromisoformat(d) < period.end for d in days):
            editions.add((batch.geo_database, batch.geo_edition))
    return [{"database": db, "edition": ed} for db, ed in sorted(editions)]
