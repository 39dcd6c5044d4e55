"""What the store holds: its days, its sensors, whether a period has packets (``store
info``, ``sensors list``, the sensor options, the report's and phenomena's checks)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from teiten.store.queries.statement import Statement

__all__ = [
    "has_rows",
    "held_days",
    "rolled_up_only",
    "sensor_labels",
    "sensor_totals",
    "store_totals",
]


def has_rows(view: Literal["packets", "sources"], first: date, end: date) -> Statement:
    """One row (``seen``) when ``view`` has rows in days ``first`` … ``end`` (exclusive),
    else none."""
    sql = f"SELECT 1 AS seen FROM {view} WHERE day >= $first AND day < $end LIMIT 1"
    return Statement(sql, {"first": first, "end": end})


def held_days(view: Literal["packets", "sources"]) -> Statement:
    """The first and last day ``view`` has rows of (``first``, ``last``: NULL when none)."""
    return Statement(f"SELECT min(day) AS first, max(day) AS last FROM {view}", {})


def sensor_labels() -> Statement:
    """The sensor labels of the store's rows (``sensor``)."""
    return Statement("SELECT DISTINCT sensor FROM sources", {})


def rolled_up_only(since: date) -> Statement:
    """The days before ``since`` held as rollups only (raw retention dropped their packets):
    their number, the first, and their packets."""
    sql = (
        "SELECT count(DISTINCT day) AS days, min(day) AS first_day, "
        "CAST(coalesce(sum(packets), 0) AS BIGINT) AS packets FROM sources "
        "WHERE day < $since AND day NOT IN (SELECT DISTINCT day FROM packets WHERE day < $since)"
    )
    return Statement(sql, {"since": since})


def store_totals() -> Statement:
    """The packets, the first and last day and the number of days with packets."""
    sql = (
        "SELECT count(*) AS packets, min(day) AS first_day, max(day) AS last_day, "
        "count(DISTINCT day) AS days FROM packets"
    )
    return Statement(sql, {})


def sensor_totals() -> Statement:
    """Per sensor: its packets, its first and last instant (ns since the epoch)."""
    sql = (
        "SELECT sensor, count(*) AS packets, min(t_ns) AS first_seen, max(t_ns) AS last_seen "
        "FROM packets GROUP BY sensor ORDER BY sensor"
    )
    return Statement(sql, {})
