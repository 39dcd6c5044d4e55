"""What a store holds: days, packets, sensors, inputs, and which data tagged them."""

from __future__ import annotations

from collections import Counter
from typing import Any

from teiten.store import queries
from teiten.store.dataset import Store
from teiten.store.engine import open_engine
from teiten.store.timestamps import iso_ns

__all__ = ["summarize"]


def summarize(store: Store) -> dict[str, Any]:
    """A JSON-ready description of ``store`` (sensor labels only, never addresses)."""
    with open_engine(store) as engine:
        (totals,) = engine.rows(*queries.holdings.store_totals())
        sensors = engine.rows(*queries.holdings.sensor_totals())
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
    }
