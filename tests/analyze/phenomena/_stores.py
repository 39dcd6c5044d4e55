"""Stores simulated from a built-in scenario, for the phenomena tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from teiten.simulate import SimulationConfig, load_scenario, simulate_to_store
from teiten.store import Store

__all__ = ["simulated_store"]


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
