"""Message catalogues: a report's words and number, date and name formats per language.

Each language is a module (:mod:`.ja`, :mod:`.en`) with ``TEXT`` (headings, labels,
sentences with ``{placeholders}``) and its calendar and unit formatters; both
catalogues must hold the same keys (a test pins it). Renderers never build a
sentence themselves: they ask :class:`Messages`.
"""

from __future__ import annotations

import datetime as dt
import re
from types import ModuleType
from typing import Any

from teiten import numbers
from teiten.enrich import country_name
from teiten.enrich.countries import country_in_text
from teiten.errors import OptionError
from teiten.report.messages import en, ja
from teiten.report.model import LANGUAGES

__all__ = ["CATALOGUES", "Messages"]

CATALOGUES: dict[str, ModuleType] = {"ja": ja, "en": en}
_TOOLS = {"mirai": "Mirai", "zmap": "ZMap", "masscan": "Masscan"}


class Messages:
    """Words and formats of one language."""

    def __init__(self, lang: str, zone: dt.tzinfo = dt.UTC) -> None:
        if lang not in CATALOGUES:
            raise OptionError(
                f"unknown report language {lang!r}: use one of {', '.join(LANGUAGES)}"
            )
        self.lang = lang
        self._mod = CATALOGUES[lang]
        self.text: dict[str, str] = self._mod.TEXT
        self.zone = zone  # every time is written in it (report.toml's publication.timezone)

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
        """An ISO 8601 timestamp as a date and HH:MM in the report's time zone."""
        moment = self.moment(iso)
        return f"{self.date(moment.date())} {moment.strftime('%H:%M')}"

    def moment(self, iso: str) -> dt.datetime:
        """An ISO 8601 timestamp (UTC when it has no offset) in the report's time zone."""
        moment = dt.datetime.fromisoformat(iso)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.zone)

    def zone_name(self, year: int, short: bool = False) -> str:
        """The time zone as the text names it: UTC; JST (UTC+9), ``short``: JST; a zone
        with summer time by its IANA name (Europe/Berlin)."""
        offsets = {
            dt.datetime(year, month, 1, tzinfo=dt.UTC).astimezone(self.zone).utcoffset()
            for month in (1, 7)
        }
        if len(offsets) > 1:
            return str(self.zone)
        at = dt.datetime(year, 1, 1, tzinfo=dt.UTC).astimezone(self.zone)
        offset = _offset(at.utcoffset() or dt.timedelta(0))
        if not offset:
            return "UTC"
        abbr = at.tzname() or ""
        if not abbr.isalpha():
            return f"UTC{offset}"
        return abbr if short else self("zone", abbr=abbr, offset=offset)

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

    def country_in_text(self, code: str | None) -> str:
        """:meth:`country` as a sentence says it: "the United States" (English)."""
        if code in (None, "??"):
            return self("unknown_region")
        return country_in_text(code, self.lang) or code

    @staticmethod
    def tool(tag: str) -> str:
        """A scanner fingerprint tag as the tool is spelt (zmap → ZMap)."""
        return _TOOLS.get(tag, tag)

    def previous(self, kind: str) -> str:
        return self(f"previous.{kind}")

    def asn(self, number: int | None) -> str:
        """``AS64512``; sources without AS data say so."""
        return self("unknown_asn") if number is None else f"AS{number}"

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

    def series_name(self, key: str, dimension: str = "") -> str:
        """A chart legend entry for a series key, never the raw key.

        ``23/tcp`` → 23/TCP; ``icmp/8`` → ICMP (8); ``CN`` → 中国 / China; ``??`` → the
        unknown region; ``all`` → 全体 / all sources; ``scans`` …; a key followed by
        tool tags (``JP mirai``) → 日本・Mirai型 / Japan, Mirai-type. ``dimension``
        ("countries") reads an unusual key as a region code.
        """
        if f"series.{key}" in self.text:
            return self(f"series.{key}")
        base, *tags = key.split(" ")
        if tags:
            name = self.series_name(base, dimension)
            for tag in tags:
                name = self("legend.tagged", name=name, tool=self.tool(tag))
            return name
        if re.fullmatch(r"\d+/[A-Za-z0-9-]+", key):
            port, proto = key.split("/")
            return self.port({"port": int(port), "proto": proto})
        if re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*/\d+", key):
            proto, icmp = key.split("/")
            return self.port({"port": None, "proto": proto, "icmp_type": int(icmp)})
        if key == "??" or re.fullmatch(r"[A-Z]{2}", key):
            return self.country(key)
        if dimension == "countries" and country_name(key, self.lang):
            return self.country(key)
        return key.upper()


def _offset(delta: dt.timedelta) -> str:
    """+9, +5:30, -3; "" for none."""
    minutes = round(delta.total_seconds() / 60)
    if not minutes:
        return ""
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    return f"{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
