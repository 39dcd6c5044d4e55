"""Country names as analysts write them, in reports' tables and sentences; lookups still work."""

from __future__ import annotations

import pytest

from teiten.enrich.countries import SHORT_NAMES, country_code, country_in_text, country_name
from teiten.report.messages import Messages


@pytest.mark.parametrize(
    ("code", "ja", "en"),
    [
        ("RU", "ロシア", "Russia"),
        ("GE", "ジョージア", "Georgia"),
        ("US", "米国", "United States"),
        ("GB", "英国", "United Kingdom"),
        ("KR", "韓国", "South Korea"),
        ("TW", "台湾", "Taiwan"),
        ("HK", "香港", "Hong Kong"),
        ("VN", "ベトナム", "Vietnam"),
        ("IR", "イラン", "Iran"),
        ("AU", "オーストラリア", "Australia"),
    ],
)
def test_short_names_in_both_languages(code, ja, en):
    assert country_name(code, "ja") == ja and country_name(code) == en
    assert country_code(ja) == country_code(en) == code  # and back


def test_formal_and_dated_names_still_find_their_code():
    assert country_code("Russian Federation") == "RU" and country_code("ロシア連邦") == "RU"
    assert country_code("グルジア") == "GE" and country_code("Brunei Darussalam") == "BN"
    for names in SHORT_NAMES.values():
        for code, name in names.items():
            assert country_code(name) == code, name


def test_sentences_give_english_names_their_article():
    assert country_in_text("US") == "the United States"
    assert country_in_text("NL") == "the Netherlands" and country_in_text("PH") == "the Philippines"
    assert country_in_text("JP") == "Japan" and country_in_text("RU") == "Russia"
    assert country_in_text("US", "ja") == "米国"
    m = Messages("en")
    assert m.country("US") == "United States"  # a table cell or a legend: no article
    assert m.country_in_text("GB") == "the United Kingdom" and m.country_in_text("??") == "Unknown"
