"""A scenario applied to a drawn population: who each change selects, and how many remain.

Pure functions over the population's columns; :mod:`teiten.simulate.population`
calls them between drawing the baseline senders and fixing their volumes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np

from teiten.simulate.behaviours import Behaviour
from teiten.simulate.envelope import Envelope, grid
from teiten.simulate.scenario import Change, Selector, port_match

__all__ = ["envelope_for", "resample", "selected"]


def selected(
    sel: Selector,
    behaviours: Sequence[Behaviour],
    beh: np.ndarray,
    codes: np.ndarray,
    dport: np.ndarray,
) -> np.ndarray:
    """Which sources (rows) ``sel`` selects."""
    hit = np.ones(len(beh), dtype=bool)
    if sel.behaviours:
        wanted = [k for k, b in enumerate(behaviours) if b.name in sel.behaviours]
        hit &= np.isin(beh, wanted)
    if sel.countries:
        hit &= np.isin(codes, list(sel.countries))
    if sel.ports:
        on_port = np.zeros(len(beh), dtype=bool)
        for port, proto in sel.ports:
            for k, b in enumerate(behaviours):
                how = port_match(b, port, proto)
                if how == "all":
                    on_port |= beh == k
                elif how == "source":
                    on_port |= (beh == k) & (dport == port)
        hit &= on_port
    return hit


def envelope_for(
    changes: Sequence[Change],
    start: datetime,
    span: float,
    masks: Sequence[np.ndarray],
) -> tuple[np.ndarray, Envelope]:
    """Each source's group (0: untouched) and the groups' hourly levels.

    ``masks[c]`` says which sources change ``c`` selects; a group is one set of
    changes, its level the product of theirs.
    """
    n = len(masks[0]) if masks else 0
    bits = np.zeros(n, dtype=np.int64)
    for c, mask in enumerate(masks):
        bits |= mask.astype(np.int64) << c
    sets = np.union1d([0], np.unique(bits))
    group = np.searchsorted(sets, bits)
    edges = grid(span)
    when = start.timestamp() + (edges[:-1] + edges[1:]) / 2
    levels, members = [], []
    for s in sets.tolist():
        mine = tuple(c for c in range(len(changes)) if s >> c & 1)
        level = np.ones(len(when))
        for c in mine:
            level = level * changes[c].level(when)
        levels.append(level)
        members.append(mine)
    return group, Envelope(edges, np.array(levels), tuple(members))


def resample(
    rng: np.random.Generator, group: np.ndarray, envelope: Envelope
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to keep, then rows to copy, so each group's size scales with its mean level.

    A group at half its level over the span keeps about half its sources; one at
    three times gains two copies of each (new senders like the old ones).
    Returns ``(kept, copied)``, both row indices of the baseline population.
    """
    mean = envelope.mean_level()
    keep = np.ones(len(group), dtype=bool)
    copies = []
    for g in range(1, len(mean)):
        rows = np.flatnonzero(group == g)
        if not len(rows):
            continue
        if mean[g] <= 1:
            keep[rows] = rng.random(len(rows)) < mean[g]
        else:
            extra = round((mean[g] - 1) * len(rows))
            copies.append(rng.choice(rows, size=extra))
    copied = np.concatenate(copies) if copies else np.zeros(0, dtype=np.int64)
    return np.flatnonzero(keep), np.sort(copied)
