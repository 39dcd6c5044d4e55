"""Stores simulated from a built-in scenario, for the phenomena tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from teiten.analyze.periods import Period
from teiten.analyze.phenomena import Finding, find_phenomena
from teiten.knowledge import load_knowledge
from teiten.simulate import SimulationConfig, load_scenario, simulate_to_store
from teiten.store import DuckDBEngine, Store

__all__ = ["phenomena_of", "simulated_store"]


def simulated_store(
    root: Path,
    scenario: str,
    packets: int,
    *,
    seed: int = 2019,
    start: datetime = datetime(2019, 1, 1, tzinfo=UTC),
    end: datetime = datetime(2019, 7, 1, tzinfo=UTC),
) -> tuple[Store, dict[str, Any]]:
    """A store in ``root`` holding ``scenario`` simulated (2019H1 by default), and its truth."""
    store = Store(root / "store")
    config = SimulationConfig(
        start=start, end=end, packets=packets, seed=seed, scenario=load_scenario(scenario)
    )
    return store, simulate_to_store(config, store).as_json()


def phenomena_of(store: Store, period: Period, **settings: Any) -> list[Finding]:
    """:func:`find_phenomena` of ``store`` (its own engine, the bundled knowledge base)."""
    with DuckDBEngine(store) as engine:
        return find_phenomena(engine, period, kb=load_knowledge(store=store.root), **settings)
