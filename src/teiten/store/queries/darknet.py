"""The darknet's size (:mod:`teiten.analyze.darknet`): the sensors of a period and the
destinations each observed."""

from __future__ import annotations

from datetime import date

from teiten.store.queries.statement import Statement

__all__ = ["observed_sensors"]


def observed_sensors(first: date, end: date) -> Statement:
    """Each sensor with packets in days ``first`` … ``end`` (exclusive), and how many
    distinct destinations it observed (``observed``), by sensor."""
    sql = (
        "SELECT k.sensor, coalesce(d.observed, 0) AS observed "
        "FROM (SELECT DISTINCT sensor FROM sources WHERE day >= $first AND day < $end) k "
        "LEFT JOIN (SELECT sensor, count(DISTINCT dst) AS observed FROM dsts "
        "WHERE day >= $first AND day < $end GROUP BY sensor) d ON d.sensor = k.sensor "
        "ORDER BY k.sensor"
    )
    return Statement(sql, {"first": first, "end": end})
