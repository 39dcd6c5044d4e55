"""What the store holds: its days, its sensors, whether a period has packets (``store
info``, ``sensors list``, the sensor options, the report's and phenomena's checks), the
packets of a kind per day (how many days session fragments read at once)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from teiten.store.queries.statement import Statement

__all__ = [
    "has_rows",
    "held_days",
    "kind_per_day",
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


def kind_per_day(kind: str, first: date, last: date) -> Statement:
    """Per day of ``first`` … ``last`` (inclusive) with packets of ``kind`` (``day``), how
    many (``n``, from the rollup)."""
    sql = (
        "SELECT day, sum(packets) AS n FROM sources WHERE day >= $first AND day <= $last "
        "AND kind = $kind GROUP BY day"
    )
    return Statement(sql, {"first": first, "last": last, "kind": kind})


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


# How the packets' totals read in each view: the packets one by one, or the ``sources``
# rollup's rows (each counting ``packets`` from ``first_ns`` to ``last_ns``).
_TOTALS = {
    "packets": ("count(*)", "min(t_ns)", "max(t_ns)"),
    "sources": ("sum(packets)", "min(first_ns)", "max(last_ns)"),
}


def _since(since: date | None) -> tuple[str, dict[str, date]]:
    return ("", {}) if since is None else (" WHERE day >= $since", {"since": since})


def store_totals(view: Literal["packets", "sources"], since: date | None = None) -> Statement:
    """The packets, the first and last day and the number of days with packets (of days
    ``since`` … when given), from the packets or their ``sources`` rollup."""
    where, params = _since(since)
    sql = (
        f"SELECT coalesce({_TOTALS[view][0]}, 0) AS packets, min(day) AS first_day, "
        f"max(day) AS last_day, count(DISTINCT day) AS days FROM {view}{where}"
    )
    return Statement(sql, params)


def sensor_totals(view: Literal["packets", "sources"], since: date | None = None) -> Statement:
    """Per sensor: its packets, its first and last instant (ns since the epoch), of days
    ``since`` … when given, from the packets or their ``sources`` rollup."""
    where, params = _since(since)
    count, first, last = _TOTALS[view]
    sql = (
        f"SELECT sensor, {count} AS packets, {first} AS first_seen, {last} AS last_seen "
        f"FROM {view}{where} GROUP BY sensor ORDER BY sensor"
    )
    return Statement(sql, params)
