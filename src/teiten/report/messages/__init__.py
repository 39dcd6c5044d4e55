"""Message catalogues: a report's words and number, date and name formats per language.

Each language is a module (:mod:`.ja`, :mod:`.en`) with ``TEXT`` (headings, labels,
sentences with ``{placeholders}``) and its calendar and unit formatters; both
catalogues must hold the same keys (a test pins it). Renderers never build a
sentence themselves: they ask :class:`Messages`.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import Any

from teiten import numbers
from teiten.enrich import country_name
from teiten.errors import OptionError
from teiten.report.messages import en, ja
from teiten.report.model import LANGUAGES

__all__ = ["CATALOGUES", "Messages"]

CATALOGUES: dict[str, ModuleType] = {"ja": ja, "en": en}
_TOOLS = {"mirai": "Mirai", "zmap": "ZMap", "masscan": "Masscan"}


class Messages:
    """Words and formats of one language."""

    def __init__(self, lang: str) -> None:
        if lang not in CATALOGUES:
            raise OptionError(
                f"unknown report language {lang!r}: use one of {', '.join(LANGUAGES)}"
            )
        self.lang = lang
        self._mod = CATALOGUES[lang]
        self.text: dict[str, str] = self._mod.TEXT

    def __call__(self, key: str, **values: Any) -> str:
        """The catalogue's ``key`` with ``values`` filled in."""
        return self.text[key].format(**values)

    # numbers -----------------------------------------------------------------
    # one rule for every number (teiten.numbers, docs/report.md "Numbers")
    @staticmethod
    def integer(value: float) -> str:
        return numbers.count(value)

    @staticmethod
    def per_sensor(value: float) -> str:
        """Packets per sensor: whole numbers, one decimal below 10 (never "….0")."""
        return numbers.per_sensor(value)

    @staticmethod
    def decimal(value: float, places: int = 1) -> str:
        return f"{value:,.{places}f}"

    @staticmethod
    def percent(fraction: float) -> str:
        return numbers.percent(fraction)

    def metric_value(self, row: dict[str, Any], metric: str) -> str:
        """A ranking row's value by ``metric``, as its table shows it."""
        if metric == "per-sensor":
            return self.per_sensor(row["per_sensor"])
        return self.integer(row["sources" if metric == "sources" else "packets"])

    def large(self, value: float) -> str:
        return self._mod.large(value)

    def ordinal(self, n: int) -> str:
        if self.lang == "ja":
            return f"{n}位"
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    def join(self, items: list[str]) -> str:
        return self._mod.LIST_SEPARATOR.join(items)

    # dates -------------------------------------------------------------------
    def date(self, day: dt.date) -> str:
        return self._mod.format_date(day)

    def datetime(self, iso: str) -> str:
        """An ISO 8601 UTC timestamp as a date and HH:MM."""
        moment = dt.datetime.fromisoformat(iso)
        return f"{self.date(moment.date())} {moment.strftime('%H:%M')}"

    def date_range(self, first: dt.date, last: dt.date) -> str:
        return f"{self.date(first)}{self._mod.RANGE}{self.date(last)}"

    def span(self, kind: str, first: dt.date, last: dt.date) -> str:
        """The period for a title: a calendar unit by name, else its dates."""
        named = self._mod.span(kind, first, last)
        if named is not None:
            return named
        return self.date(first) if first == last else self.date_range(first, last)

    def axis_date(self, day: dt.date, with_year: bool = False) -> str:
        return self._mod.axis_date(day, with_year)

    def duration(self, seconds: float) -> str:
        return self._mod.duration(seconds)

    # names -------------------------------------------------------------------
    def country(self, code: str | None) -> str:
        """A region's name in this language; unknown codes say so."""
        if code in (None, "??"):
            return self("unknown_region")
        return country_name(code, self.lang) or code

    @staticmethod
    def tool(tag: str) -> str:
        """A scanner fingerprint tag as the tool is spelt (zmap → ZMap)."""
        return _TOOLS.get(tag, tag)

    def previous(self, kind: str) -> str:
        return self(f"previous.{kind}")

    def previous_rank(self, rank: int | None, compared: bool = True) -> str:
        """The previous period's rank, or 「TOP10外」 / "outside top 10"; 「－」 / "–"
        when the previous period has no data at all (``compared`` false)."""
        if not compared:
            return self("no_previous_rank")
        return self("outside_top10") if rank is None or rank > 10 else str(rank)

    def port(self, row: dict[str, Any]) -> str:
        """23/TCP; ICMP rows by type: ICMP (8)."""
        proto = str(row["proto"]).upper()
        if row.get("port") is None:
            icmp = row.get("icmp_type")
            return proto if icmp is None else f"{proto} ({icmp})"
        return f"{row['port']}/{proto}"

    def service(self, row: dict[str, Any]) -> str:
        return row.get("service") or self("no_service")

    def series_name(self, key: str, dimension: str) -> str:
        """A chart legend entry for a series key (``23/tcp``, ``CN``, ``all`` …)."""
        if f"series.{key}" in self.text:
            return self(f"series.{key}")
        if dimension == "countries":
            return self.country(key)
        if "/" in key:
            port, proto = key.split("/", 1)
            return f"{port}/{proto.upper()}" if port.isdigit() else key.upper()
        return key.upper()
