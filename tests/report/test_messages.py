"""The catalogues: the same keys and placeholders in both languages; dates, ranks, names."""

from __future__ import annotations

import string
from datetime import date

import pytest

from teiten.errors import OptionError
from teiten.report.messages import CATALOGUES, Messages


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogues_have_the_same_keys_and_placeholders():
    ja, en = CATALOGUES["ja"].TEXT, CATALOGUES["en"].TEXT
    assert set(ja) == set(en)
    for key in ja:
        assert _fields(ja[key]) == _fields(en[key]), key


def test_japanese_formats():
    m = Messages("ja")
    assert m.date(date(2019, 4, 1)) == "2019年4月1日"
    assert m.span("quarter", date(2019, 4, 1), date(2019, 6, 30)) == "2019年4月～6月"
    assert m.date_range(date(2019, 4, 1), date(2019, 6, 30)) == "2019年4月1日～2019年6月30日"
    assert m.previous("quarter") == "前四半期" and m.previous("month") == "前月"
    assert m.previous_rank(None) == m.previous_rank(11) == "TOP10外"
    assert m.previous_rank(10) == "10"
    assert m.join(["23/TCP", "445/TCP"]) == "23/TCP、445/TCP"
    assert m.integer(1234567) == "1,234,567" and m.percent(0.2313) == "23.1%"
    assert m.country("KR") == "韓国" and m.country(None) == "不明"
    assert m.large(1_875_000) == "187.5万" and m.duration(2040) == "34分"
    assert m.datetime("2019-04-06T22:39:00.5+00:00") == "2019年4月6日 22:39"


def test_english_formats():
    m = Messages("en")
    assert m.date(date(2019, 4, 1)) == "April 1, 2019"
    assert m.span("quarter", date(2019, 4, 1), date(2019, 6, 30)) == "April–June 2019"
    assert m.previous_rank(None) == "outside top 10"
    assert m.country("KR") == "South Korea" and m.country("??") == "Unknown"
    assert [m.ordinal(n) for n in (1, 2, 3, 4, 11, 22)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "22nd",
    ]
    assert m.large(1_875_000) == "1.9 million"
    assert m.port({"proto": "icmp", "port": None, "icmp_type": 8}) == "ICMP (8)"


def test_unknown_language_is_a_usage_error():
    with pytest.raises(OptionError, match="ja, en"):
        Messages("fr")
