"""Country names in English and Japanese, including registry codes ISO does not assign."""

from __future__ import annotations

import pytest

from teiten.enrich import country_name


@pytest.mark.parametrize(
    ("code", "en", "ja"),
    [
        ("JP", "Japan", "日本"),
        ("US", "United States", "米国"),
        ("KR", "South Korea", "韓国"),
        ("TW", "Taiwan", "台湾"),
        ("CN", "China", "中国"),
        ("NL", "Netherlands", "オランダ"),
        ("EU", "European Union", "欧州連合"),
        ("AP", "Asia/Pacific Region", "アジア太平洋地域"),
        ("XK", "Kosovo", "コソボ"),
    ],
)
def test_names(code: str, en: str, ja: str) -> None:
    assert country_name(code) == en
    assert country_name(code, "ja") == ja


@pytest.mark.parametrize("code", [None, "", "ZZ", "QQ"])
def test_unknown_codes_have_no_name(code: str | None) -> None:
    assert country_name(code) is None
    assert country_name(code, "ja") is None


def test_lowercase_code() -> None:
    assert country_name("jp") == "Japan"


def test_language_without_catalogue_falls_back_to_english() -> None:
    assert country_name("JP", "xx") == "Japan"
    assert country_name("EU", "xx") == "European Union"


def test_regional_language_tag() -> None:
    assert country_name("JP", "ja_JP") == "日本"
