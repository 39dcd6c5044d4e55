"""A scenario's changes inside the generator's model: groups of sources and their time factors.

Sources subject to the same set of changes form a group; the group's factor
over time (the product of its changes' factors, hour by hour) is its level.
The level shapes the population, not the packets one by one:

* how many sources a group has scales with its mean level over the span
  (a surge brings more senders, a decline fewer);
* when they appear follows the level (arrival density ∝ level), so the
  number of active senders, and with it their packets, follows it;
* where the level is 0 (before ``enter``, after ``leave``) nobody sends:
  each source's packets are spread over its active time weighted by the
  diurnal swing *and* this support, so the edges are exact to the second.

Every quantity is an integral of a piecewise-constant function over hourly
steps, kept as cumulative sums, so the schedule still splits each source's
fixed total exactly and in bulk. Group 0 is the sources no change touches.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["DAY_S", "STEP_S", "Envelope"]

DAY_S = 86_400.0
STEP_S = 3600.0  # levels are constant within each hour of the simulation
_OMEGA = 2 * math.pi / DAY_S


def _cumulative(values: np.ndarray) -> np.ndarray:
    """Prefix sums along the last axis, with a leading 0."""
    out = np.zeros((*values.shape[:-1], values.shape[-1] + 1))
    np.cumsum(values, axis=-1, out=out[..., 1:])
    return out


def grid(span: float) -> np.ndarray:
    """Step edges in seconds after the start: every hour, and the end."""
    return np.append(np.arange(0.0, span, STEP_S), span)


class Envelope:
    """Hourly levels of each group of sources, and the integrals the generator needs.

    ``level[g, k]`` is group ``g``'s factor in step ``k`` (``edges[k]`` to
    ``edges[k + 1]`` seconds after the start, see :func:`grid`); ``members[g]``
    lists the indices of the scenario changes group ``g`` is subject to.
    """

    def __init__(
        self, edges: np.ndarray, level: np.ndarray, members: tuple[tuple[int, ...], ...]
    ) -> None:
        self.edges, self.level, self.members = edges, level, members
        width = np.diff(edges)
        self._support = (level > 0).astype(np.float64)
        sin_e, cos_e = np.sin(_OMEGA * edges), np.cos(_OMEGA * edges)
        # Integrals of support × (1, cos ωt, sin ωt), and of the level, step by step.
        self._e = _cumulative(self._support * width)
        self._c = _cumulative(self._support * np.diff(sin_e) / _OMEGA)
        self._s = _cumulative(self._support * -np.diff(cos_e) / _OMEGA)
        self._l = _cumulative(level * width)

    @property
    def span(self) -> float:
        return float(self.edges[-1])

    def mean_level(self) -> np.ndarray:
        """Each group's level averaged over the span (how its source count scales)."""
        return self._l[:, -1] / self.span

    def mass_to(
        self,
        group: np.ndarray,
        amp: np.ndarray,
        cos_ph: np.ndarray,
        sin_ph: np.ndarray,
        t: np.ndarray | float,
    ) -> np.ndarray:
        """∫₀ᵗ support(τ) · (1 + amp·cos(ω(τ − φ))) dτ per source (φ as cos ωφ, sin ωφ).

        The same as :func:`teiten.simulate.population.diurnal_mass` from 0 where
        the group is active, and flat where it is not.
        """
        k = np.clip(np.searchsorted(self.edges, t, side="right") - 1, 0, self.level.shape[1] - 1)
        on = self._support[group, k]
        e0 = self.edges[k]
        whole = self._e[group, k] + on * (t - e0)
        c = self._c[group, k] + on * (np.sin(_OMEGA * t) - np.sin(_OMEGA * e0)) / _OMEGA
        s = self._s[group, k] + on * (np.cos(_OMEGA * e0) - np.cos(_OMEGA * t)) / _OMEGA
        return whole + amp * (cos_ph * c + sin_ph * s)

    def arrivals(self, rng: np.random.Generator, group: np.ndarray, life: np.ndarray) -> np.ndarray:
        """First active second of each source, drawn with density ∝ its group's level.

        Like an unshaped source (uniform over ``[-life, span]``) it may have started
        before the span; the level before the start is the first step's.
        """
        out = np.empty(len(group))
        steps = self.level.shape[1]
        for g in np.unique(group).tolist():
            rows = np.flatnonzero(group == g)
            cumulative, first = self._l[g], self.level[g, 0]
            u = rng.uniform(-life[rows] * first, cumulative[-1])
            k = np.clip(np.searchsorted(cumulative, u, side="right") - 1, 0, steps - 1)
            rate = self.level[g, k]
            shift = np.divide(u - cumulative[k], rate, out=np.zeros(len(rows)), where=rate > 0)
            early = np.divide(u, first, out=np.zeros(len(rows)), where=first > 0)
            out[rows] = np.where(u < 0, early, self.edges[k] + shift)
        return out
