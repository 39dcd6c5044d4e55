"""What a store holds: days, packets, sensors, inputs, and which data tagged them."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Literal

from teiten.store import queries
from teiten.store.dataset import Store
from teiten.store.engine import open_engine
from teiten.store.retention import raw_since, retention_days
from teiten.store.timestamps import iso_ns

__all__ = ["last_day", "summarize"]


def summarize(store: Store) -> dict[str, Any]:
    """A JSON-ready description of ``store`` (sensor labels only, never addresses).

    ``packets``, ``days`` and the sensors count the raw packets held. A store with raw
    retention (:mod:`teiten.store.retention`) also has ``retention``: the setting, the
    raw horizon, and the days held as rollups only (``rolled_up_only``)."""
    since, keep = raw_since(store), retention_days(store)
    rolled_only = None
    with open_engine(store) as engine:
        if since is not None:
            (old,) = engine.rows(*queries.holdings.rolled_up_only(since))
            rolled_only = {
                "days": int(old["days"]),
                "first_day": old["first_day"].isoformat() if old["first_day"] else None,
                "packets": int(old["packets"]),
            }
        # A complete rollup counts every packet held: its day rows (of the days whose raw
        # packets are kept) give the same totals as the packets, read in a fraction.
        view: Literal["packets", "sources"] = "sources" if engine.rolled_up else "packets"
        (totals,) = engine.rows(*queries.holdings.store_totals(view, since))
        sensors = engine.rows(*queries.holdings.sensor_totals(view, since))
    batches = store.manifest.batches(state="committed")
    editions = Counter((b.geo_database, b.geo_edition) for b in batches)
    inputs = store.manifest.inputs()
    return {
        "store": str(store.root),
        "packets": int(totals["packets"]),
        "days": int(totals["days"]),
        "first_day": totals["first_day"].isoformat() if totals["first_day"] else None,
        "last_day": totals["last_day"].isoformat() if totals["last_day"] else None,
        "sensors": [
            {
                "sensor": s["sensor"],
                "packets": int(s["packets"]),
                "first_seen": iso_ns(s["first_seen"]),
                "last_seen": iso_ns(s["last_seen"]),
            }
            for s in sensors
        ],
        "inputs": len(inputs),
        "inputs_with_errors": sum(1 for i in inputs if i.error),
        "batches": len(batches),
        "geo": [
            {"database": db, "edition": edition, "batches": n}
            for (db, edition), n in sorted(editions.items())
        ],
    } | (
        {}
        if keep is None and since is None
        else {
            "retention": {
                "raw_retention_days": keep,
                "raw_since": since.isoformat() if since else None,
                "rolled_up_only": rolled_only,
            }
        }
    )


def last_day(root: Path) -> date | None:
    """The newest day the store at ``root`` holds packets of (raw or rolled up), None
    when none: the ``last_day`` of :func:`summarize`, from the day folders' names alone
    (its cost does not grow with the packets stored)."""
    folders = [*root.glob("packets/day=*"), *root.glob("rollups/day=*")]
    for folder in sorted(folders, key=lambda f: f.name, reverse=True):
        if any(folder.glob("*.parquet")):
            return date.fromisoformat(folder.name.removeprefix("day="))
    return None
