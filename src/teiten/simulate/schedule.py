"""When each source sends: the simulated span cut into time slices of bounded size.

Every source's total is fixed up front; slice by slice it is split with a
conditional binomial (this slice's share of the source's remaining diurnal
mass), so totals stay exact while each slice only touches the sources active
in it. A slice holding too many packets (a burst) is cut again, evenly in
time, so no chunk grows much past ``chunk_packets``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from teiten.simulate.envelope import DAY_S, STEP_S
from teiten.simulate.population import Population, diurnal_mass

__all__ = ["Slice", "merge", "slices"]

_OMEGA = 2 * math.pi / DAY_S
_MAX_SLICE_S = 1800.0  # the diurnal swing is followed at this resolution


@dataclass(frozen=True, slots=True)
class Slice:
    """Runs of packets: ``counts[i]`` from ``sources[i]`` in ``[lo[i], hi[i])`` seconds."""

    key: tuple[int, int]  # (slice, sub-slice): seeds the slice's own random stream
    sources: np.ndarray  # int64 source rows
    counts: np.ndarray  # int64 packets per source (all > 0)
    lo: np.ndarray  # float64
    hi: np.ndarray  # float64

    @property
    def packets(self) -> int:
        return int(self.counts.sum())


def slices(
    pop: Population, span: float, total: int, chunk: int, rng: np.random.Generator
) -> Iterator[Slice]:
    """Time-ordered slices covering ``[0, span)`` s; their counts add up to ``pop.packets``."""
    length = min(max(span * chunk / max(total, 1), 1.0), _MAX_SLICE_S, span)
    env = pop.envelope
    if env is not None:  # slices nest in the envelope's hourly steps
        length = min(STEP_S / math.ceil(STEP_S / length), span)
    n_slices = max(1, math.ceil(span / length))
    by_start = np.argsort(pop.on, kind="stable")
    starts = pop.on[by_start]
    remaining = pop.packets.copy()
    cos_ph, sin_ph = np.cos(_OMEGA * pop.phase), np.sin(_OMEGA * pop.phase)
    if env is None:
        mass_to_off = diurnal_mass(pop.amplitude, pop.phase, 0.0, pop.off)
    else:
        mass_to_off = env.mass_to(pop.group, pop.amplitude, cos_ph, sin_ph, pop.off)
    active = np.empty(0, dtype=np.int64)
    added = 0
    for k in range(n_slices):
        t0, t1 = k * length, span if k == n_slices - 1 else (k + 1) * length
        upto = int(np.searchsorted(starts, t1, side="left")) if k < n_slices - 1 else len(starts)
        active = np.concatenate([active, by_start[added:upto]])
        added = upto
        active = active[(remaining[active] > 0) & (pop.off[active] > t0)]
        if not len(active):
            continue
        active.sort()
        on, off = pop.on[active], pop.off[active]
        a, b = np.maximum(on, t0), np.minimum(off, t1)
        # Mass from 0 to t0 / t1 with scalar trigonometry (sin(x − φ) expanded); exact
        # evaluation only where a source starts or stops inside the slice.
        amp, cos_a, sin_a = pop.amplitude[active], cos_ph[active], sin_ph[active]
        inside = np.flatnonzero(on > t0)
        if env is None:
            to_a = _mass_to(t0, amp, cos_a, sin_a)
            to_b = _mass_to(t1, amp, cos_a, sin_a)
            to_a[inside] = diurnal_mass(amp[inside], pop.phase[active[inside]], 0.0, a[inside])
        else:
            group = pop.group[active]
            to_a = env.mass_to(group, amp, cos_a, sin_a, t0)
            to_b = env.mass_to(group, amp, cos_a, sin_a, t1)
            to_a[inside] = env.mass_to(
                group[inside], amp[inside], cos_a[inside], sin_a[inside], a[inside]
            )
        last = off <= t1
        rest = np.where(last, 1.0, mass_to_off[active] - to_a)
        # Nothing left to come (a scenario silenced the source): the rest goes now.
        share = np.where(last | (rest <= 0), 1.0, (to_b - to_a) / np.where(rest > 0, rest, 1.0))
        share = np.clip(share, 0.0, 1.0)
        counts = rng.binomial(remaining[active], share)
        remaining[active] -= counts
        has = counts > 0
        whole = Slice((k, 0), active[has], counts[has], a[has], b[has])
        yield from _cut(whole, t0, t1, chunk, rng)


def _mass_to(t: float, amp: np.ndarray, cos_ph: np.ndarray, sin_ph: np.ndarray) -> np.ndarray:
    """``diurnal_mass(amp, phase, 0, t)`` for one scalar ``t``, without a sine per source."""
    sin_t = math.sin(_OMEGA * t) * cos_ph - math.cos(_OMEGA * t) * sin_ph  # sin(ω(t − φ))
    return t + amp / _OMEGA * (sin_t + sin_ph)


def _cut(sl: Slice, t0: float, t1: float, chunk: int, rng: np.random.Generator) -> Iterator[Slice]:
    """``sl`` cut into equal time parts of about ``chunk`` packets (itself when small)."""
    parts = math.ceil(sl.packets / chunk)
    if parts <= 1 or sl.packets <= 2 * chunk:
        yield sl
        return
    edges = np.linspace(t0, t1, parts + 1)
    remaining = sl.counts.copy()
    for j in range(parts):
        a = np.maximum(sl.lo, edges[j])
        b = np.minimum(sl.hi, edges[j + 1])
        rest = sl.hi - a
        share = np.where(rest > 0, np.clip(b - a, 0.0, None) / np.where(rest > 0, rest, 1), 0.0)
        counts = remaining if j == parts - 1 else rng.binomial(remaining, np.clip(share, 0, 1))
        remaining = remaining - counts
        has = counts > 0
        yield Slice((sl.key[0], j), sl.sources[has], counts[has], a[has], np.maximum(b, a)[has])


def merge(parts: list[Slice]) -> Slice:
    """Consecutive slices as one (runs stay in time order; a source may recur)."""
    if len(parts) == 1:
        return parts[0]
    return Slice(
        parts[0].key,
        np.concatenate([p.sources for p in parts]),
        np.concatenate([p.counts for p in parts]),
        np.concatenate([p.lo for p in parts]),
        np.concatenate([p.hi for p in parts]),
    )
