"""The analyses' SQL, in one place: one module per subject, each function one statement.

A function takes the structural choices (which keys, which filters, which relation to
read: a view, or :meth:`teiten.store.engine.Engine.relation`'s answer) and the values,
and returns a :class:`Statement`: the text, with ``$name`` markers — the one parameter
style, which both engines run (Spark through :func:`teiten.store.dialect.named_params`)
— and the values of exactly those markers (DuckDB refuses a value without its marker).
An analysis runs it with ``engine.rows(*statement)`` (or ``engine.table``) and turns the
rows into its answer: it writes no SQL itself. What the two engines spell differently
comes from :mod:`teiten.store.dialect`, so a function that needs it takes the engine's
``dialect``.

=============== ==========================================================================
module          statements
=============== ==========================================================================
``statement``   what the others return: a ``Statement``, or a ``Condition`` for a WHERE
``filters``     the row filters of a ranking and of its rows' series (a ``Condition``)
``rankings``    ranked rows of a period and the previous one, their sources, the totals
``series``      per-day values: sensors, a ranking's rows, probes and Mirai's, top keys;
                any filter's counts per day or hour
``attribution`` who sent a finding's probes: its sources, busiest /24, busiest's tags
``darknet``     the sensors of a period and the destinations each observed
``holdings``    what the store holds: days, sensors, whether a period has packets, the
                packets of a kind per day
``events``      what scans and DoS attacks share: the days read, sessions, sensor
                sources, IPv4 addresses, the CTEs merging per-day session fragments
``scans``       scan events: from the packets, from fragments, a day's fragments
``dos``         DoS attacks: from the backscatter, from fragments, a day's fragments
``sources``     a period's sources, one source's history, whether an address is a
                sensor's
``notify``      the evidence of the finding kinds notification feeds report, per source
=============== ==========================================================================

Not here: the rollups' own SQL and the engines' views (:mod:`teiten.store.rollup`, the
engines).
"""

from teiten.store.queries import (
    attribution,
    darknet,
    dos,
    events,
    filters,
    holdings,
    notify,
    rankings,
    scans,
    series,
    sources,
)
from teiten.store.queries.statement import NO_CONDITION, Condition, Statement

__all__ = [
    "NO_CONDITION",
    "Condition",
    "Statement",
    "attribution",
    "darknet",
    "dos",
    "events",
    "filters",
    "holdings",
    "notify",
    "rankings",
    "scans",
    "series",
    "sources",
]
