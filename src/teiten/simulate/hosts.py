"""A scenario's single loud hosts as population rows: one address each, exact packets, own span.

Real darknets see them all the time: one ZMap host sends a country's biggest
day to 22/TCP, one host dominates a port for three days. Each
:class:`~teiten.simulate.scenario.Host` becomes one source with its own
behaviour (named by its id, built from the one it is ``like``), appended after
the scenario's changes have shaped the rest, so no change acts on it. Its
packets are fixed here and taken out of the simulation's total before the
behaviours share what is left.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from teiten.errors import ScenarioError
from teiten.simulate.behaviours import Behaviour
from teiten.simulate.envelope import DAY_S
from teiten.simulate.regions import PEAK_LOCAL_H, UTC_OFFSET, country_pools, spread
from teiten.simulate.scenario import Host

__all__ = ["HostRows", "host_rows"]

_SEARCH = 250_000  # random addresses looked up per try when a country's pool is empty
_SEARCHES = 8
_DRAWS = 64  # addresses tried per host before giving up on a free one


@dataclass(frozen=True, slots=True)
class HostRows:
    """Columns of the hosts' rows (one per host, in scenario order), as in ``Population``."""

    behaviours: tuple[Behaviour, ...]
    codes: tuple[str, ...]  # country of each host
    addr: np.ndarray  # uint32
    ttl: np.ndarray  # uint8
    window: np.ndarray  # uint16
    sport: np.ndarray  # uint16
    counter: np.ndarray  # uint32
    ts_base: np.ndarray  # uint32
    on: np.ndarray  # float64 seconds since the start
    off: np.ndarray  # float64
    packets: np.ndarray  # int64
    phase: np.ndarray  # float64
    amplitude: np.ndarray  # float64


def host_rows(
    hosts: Sequence[Host],
    *,
    seed: int,
    start: datetime,
    span: float,
    packets: Sequence[int],
    pools: dict[str, np.ndarray],
    taken: np.ndarray,
    sensors: Sequence[str],
    source: str,
) -> HostRows:
    """One row per host: a free address of its country, its window and its ``packets``.

    ``taken`` are the other sources' addresses (a host never shares one);
    ``source`` names the scenario in errors.
    """
    rng = np.random.default_rng([seed, 4])
    behaviours = tuple(h.behaviour() for h in hosts)
    used = set(taken.tolist())
    addr = np.empty(len(hosts), dtype=np.uint32)
    for i, host in enumerate(hosts):
        addr[i] = _address(rng, host, pools, used, sensors, (source, f"hosts[{i}] ({host.id})"))
        used.add(int(addr[i]))
    ttl0 = np.array([rng.choice(np.array(b.ttl)) for b in behaviours], dtype=np.int64)
    ttl = np.clip(ttl0 - rng.integers(5, 25, size=len(hosts)), 1, 255).astype(np.uint8)
    window = np.array(
        [rng.choice(np.array(b.window)) if isinstance(b.window, tuple) else 0 for b in behaviours],
        dtype=np.uint16,
    )
    t0 = start.timestamp()
    on = np.clip([h.start.timestamp() - t0 for h in hosts], 0.0, span)
    off = np.clip([h.end.timestamp() - t0 for h in hosts], 0.0, span)
    start_s = start.hour * 3600 + start.minute * 60 + start.second
    peak = np.array([(PEAK_LOCAL_H - UTC_OFFSET.get(h.country, 0.0)) * 3600 for h in hosts])
    n = len(hosts)
    return HostRows(
        behaviours=behaviours,
        codes=tuple(h.country for h in hosts),
        addr=addr,
        ttl=ttl,
        window=window,
        sport=rng.integers(32768, 61000, size=n, dtype=np.uint16),
        counter=rng.integers(0, 2**32, size=n, dtype=np.uint32),
        ts_base=rng.integers(0, 2**32, size=n, dtype=np.uint32),
        on=on,
        off=off,
        packets=np.array(packets, dtype=np.int64),
        phase=np.mod(peak - start_s, DAY_S),
        amplitude=np.array([b.diurnal for b in behaviours]),
    )


def _address(
    rng: np.random.Generator,
    host: Host,
    pools: dict[str, np.ndarray],
    used: set[int],
    sensors: Sequence[str],
    where: tuple[str, str],
) -> int:
    """A free address in ``host.country``'s space (searched further for a small country)."""
    pool = pools.get(host.country)
    for _ in range(_SEARCHES):
        if pool is not None and len(pool):
            break
        pool = country_pools(rng, _SEARCH, sensors).get(host.country)
    if pool is None or not len(pool):
        raise ScenarioError(
            where[0],
            f"no address of {host.country} among {_SEARCH * _SEARCHES:,} random ones: "
            "its space is too small to sample; pick a larger country",
            entry=where[1],
            field="country",
        )
    codes = np.array([host.country] * _DRAWS, dtype=object)
    candidates = spread(rng, pool[rng.integers(0, len(pool), size=_DRAWS)], codes, sensors)
    for addr in candidates.tolist():
        if addr not in used:
            return int(addr)
    raise ScenarioError(
        where[0], f"no free address of {host.country} left", entry=where[1], field="country"
    )
