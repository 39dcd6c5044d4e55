"""How findings are worded, in Japanese and English.

Sentences follow the style of Japanese fixed-point observation reports
(「…宛のパケットが増加しました」, 「TOP10外」, 2019年5月14日); the English says the
same thing, not a word-by-word rendering.
"""

from __future__ import annotations

from datetime import date

from teiten import numbers
from teiten.enrich import country_name, service_name

__all__ = [
    "LANGS",
    "country",
    "day",
    "level",
    "no_previous",
    "per_sensor",
    "port",
    "previous",
    "ratio",
    "share",
]

LANGS = ("ja", "en")


def day(d: date, lang: str) -> str:
    """A date as the language writes it: 2019年5月14日 / May 14, 2019."""
    if lang == "ja":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d:%B} {d.day}, {d.year}"


def port(proto: str, number: int, lang: str, *, service: bool = True) -> str:
    """``3389/TCP`` and, when known, its service: ``3389/TCP（ms-wbt-server）``."""
    label = f"{number}/{proto.upper()}"
    name = service_name(proto, number) if service else None
    if not name:
        return label
    return f"{label}（{name}）" if lang == "ja" else f"{label} ({name})"


def country(code: str, lang: str) -> str:
    """A country's name in the language (the code when unknown)."""
    return country_name(code, lang) or code


def share(fraction: float) -> str:
    """A share as the report's tables write it (one decimal): ``7.5%``."""
    return numbers.percent(fraction)


def per_sensor(value: float) -> str:
    """Packets per sensor as the tables write them: ``38,298``, below 10 ``7.3``."""
    return numbers.per_sensor(value)


def level(fraction: float) -> str:
    """A level against an earlier one, approximate (after 約 / about): ``40%``."""
    return f"{fraction * 100:.0f}%"


def ratio(value: float) -> str:
    return f"{value:.1f}"


_PREVIOUS = {
    "quarter": ("前四半期", "the previous quarter"),
    "month": ("前月", "the previous month"),
    "week": ("前週", "the previous week"),
    "day": ("前日", "the previous day"),
    "year": ("前年", "the previous year"),
}


def previous(kind: str, lang: str) -> str:
    """The period before, by its calendar name: 前四半期 / the previous quarter."""
    ja, en = _PREVIOUS.get(kind, ("前期間", "the previous period"))
    return ja if lang == "ja" else en


def no_previous(kind: str, lang: str) -> str:
    """Why there are no new entrants in a store's first period."""
    if lang == "ja":
        return f"{previous(kind, 'ja')}のデータがないため比較できません。"
    return f"No data for {previous(kind, 'en')}: no comparison."
