"""The content digest of a store's data for one period, as a report names it.

``period-blake3:<hex>`` is BLAKE3 over the sorted lines, one per committed input
whose batch has rows in the period::

    input <content key> <sensor label> <geo database> <geo edition>

(the content key is the input's packets digest, :mod:`teiten.capture.identity`),
a ``batch <id> <packets>`` line for a committed batch that records no input, and a
``removed <day> <rows left>`` line per day of the period a removal rewrote
(``teiten store remove``). The same captures ingested into another store, in
another order, compressed or converted, give the same digest; an input added,
removed or tagged with another geo edition changes it. Compaction, which moves
rows between files without changing them, does not.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

import blake3

if TYPE_CHECKING:
    from teiten.analyze.periods import Period
    from teiten.store import Store

__all__ = ["PREFIX", "period_digest"]

PREFIX = "period-blake3:"
_DOMAIN = "teiten-period-v1"
_DAY_DIR = re.compile(r"day=(\d{4}-\d{2}-\d{2})")


def _in_period(period: Period, paths: list[str]) -> set[str]:
    """The days (ISO) of ``paths`` (``…/day=YYYY-MM-DD/…``) that fall in ``period``."""
    days = {m[1] for p in paths if (m := _DAY_DIR.search(p))}
    return {d for d in days if period.start <= date.fromisoformat(d) < period.end}


def period_digest(store: Store, period: Period) -> str:
    """``period-blake3:<hex>`` of the data ``store`` holds for ``period``."""
    manifest = store.manifest
    inputs = manifest.inputs_by_batch()
    lines: list[str] = []
    for batch in manifest.batches(state="committed"):
        if not _in_period(period, [target for _, target in batch.parts]):
            continue
        recorded = inputs.get(batch.batch_id, [])
        lines += [
            f"input {i.digest} {i.sensor or batch.sensor} {batch.geo_database} {batch.geo_edition}"
            for i in recorded
        ]
        if not recorded:
            lines.append(f"batch {batch.batch_id} {batch.packets}")
    for rewrite in manifest.rewrites(state="done", kind="remove"):
        for day in rewrite.plan.get("days", []):
            if _in_period(period, [f"{day['day']}/"]):
                rows = sum(int(f.get("rows", 0)) for f in day.get("add", []))
                lines.append(f"removed {day['day']} {rows}")
    text = "\n".join([_DOMAIN, *sorted(lines)])
    return PREFIX + blake3.blake3(text.encode()).hexdigest()
