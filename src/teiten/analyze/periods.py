"""Observation periods: the calendar units reports are written for.

A period is a half-open range of whole UTC days. Its *previous* period is the
preceding unit of the same kind (2019Q2 → 2019Q1, 2019-W15 → 2019-W14); for an
explicit range it is the range of the same number of days just before it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from teiten.errors import PeriodError

__all__ = ["Period", "parse_period"]

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$", re.IGNORECASE)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^(\d{4})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")

HELP = (
    "a quarter (2019Q2), month (2019-04), ISO week (2019-W15), day (2019-04-01), "
    "year (2019) or inclusive range (2019-04-01..2019-06-30)"
)


@dataclass(frozen=True)
class Period:
    """Whole UTC days ``start`` (inclusive) to ``end`` (exclusive)."""

    label: str
    start: date
    end: date
    kind: str  # "quarter" | "month" | "week" | "day" | "year" | "range"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The preceding period of the same kind (same number of days for ranges)."""
        before = self.start - timedelta(days=1)
        if self.kind == "quarter":
            return _quarter(before.year, (before.month - 1) // 3 + 1)
        if self.kind == "month":
            return _month(before.year, before.month)
        if self.kind == "week":
            year, week, _ = before.isocalendar()
            return _week(year, week)
        if self.kind == "day":
            return _day(before)
        if self.kind == "year":
            return _year(before.year)
        start = self.start - timedelta(days=self.days)
        return _range(start, before)

    def as_json(self) -> dict[str, str]:
        """``{"label", "start", "end"}`` with ``end`` the last day, inclusive."""
        return {
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.last_day.isoformat(),
        }


def parse_period(text: str) -> Period:
    """Parse a period string; raise :class:`PeriodError` naming the accepted forms."""
    text = text.strip()
    try:
        if m := _QUARTER.match(text):
            return _quarter(int(m[1]), int(m[2]))
        if m := _MONTH.match(text):
            return _month(int(m[1]), int(m[2]))
        if m := _WEEK.match(text):
            return _week(int(m[1]), int(m[2]))
        if _DAY.match(text):
            return _day(date.fromisoformat(text))
        if m := _YEAR.match(text):
            return _year(int(m[1]))
        if m := _RANGE.match(text):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < first:
                raise PeriodError(f"period {text!r} ends before it starts")
            return _range(first, last)
    except ValueError as exc:
        raise PeriodError(f"period {text!r} is not a real date: {exc}") from exc
    raise PeriodError(f"cannot read period {text!r}: expected {HELP}")


def _quarter(year: int, q: int) -> Period:
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return Period(f"{year}Q{q}", start, end, "quarter")


def _month(year: int, month: int) -> Period:
    start = date(year, month, 1)
    end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return Period(f"{year}-{month:02d}", start, end, "month")


def _week(year: int, week: int) -> Period:
    start = date.fromisocalendar(year, week, 1)
    return Period(f"{year}-W{week:02d}", start, start + timedelta(days=7), "week")


def _day(day: date) -> Period:
    return Period(day.isoformat(), day, day + timedelta(days=1), "day")


def _year(year: int) -> Period:
    return Period(str(year), date(year, 1, 1), date(year + 1, 1, 1), "year")


def _range(first: date, last: date) -> Period:
    return Period(f"{first}..{last}", first, last + timedelta(days=1), "range")
