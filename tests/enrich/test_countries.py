"""Country names in English and Japanese, including registry codes ISO does not assign."""

from __future__ import annotations

import pytest

from teiten.enrich import country_name
from teiten.enrich.countries import country_code
from teiten.errors import OptionError


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


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("JP", "JP"),
        ("jp", "JP"),
        ("jpn", "JP"),
        ("ＪＰ", "JP"),
        ("Japan", "JP"),
        (" JAPAN ", "JP"),
        ("日本", "JP"),
        ("United States", "US"),
        ("United States of America", "US"),
        ("米国", "US"),
        ("アメリカ", "US"),
        ("アメリカ合衆国", "US"),
        ("South Korea", "KR"),
        ("Korea", "KR"),
        ("Republic of Korea", "KR"),
        ("韓国", "KR"),
        ("大韓民国", "KR"),
        ("North Korea", "KP"),
        ("北朝鮮", "KP"),
        ("Cote d'Ivoire", "CI"),
        ("Côte d’Ivoire", "CI"),
        ("the Netherlands", "NL"),
        ("Russia", "RU"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("Taiwan", "TW"),
        ("台湾", "TW"),
        ("EU", "EU"),
        ("Kosovo", "XK"),
    ],
)
def test_country_code_reads_codes_and_names(text: str, code: str) -> None:
    assert country_code(text) == code


def test_every_name_the_reports_use_reads_back() -> None:
    import pycountry

    for country in pycountry.countries:
        for lang in ("en", "ja"):
            assert country_code(country_name(country.alpha_2, lang)) == country.alpha_2


@pytest.mark.parametrize(
    ("text", "closest"),
    [("Japn", "Japan (JP)"), ("Germny", "Germany (DE)"), ("Untied States", "United States (US)")],
)
def test_unknown_country_names_the_closest(text: str, closest: str) -> None:
    with pytest.raises(OptionError, match=r"unknown country .*closest: .*") as caught:
        country_code(text)
    assert closest in str(caught.value)


@pytest.mark.parametrize("text", ["", " ", "XX", "ZZ", "QQ", "--", "Atlantis"])
def test_unknown_or_unassigned_codes_are_errors(text: str) -> None:
    with pytest.raises(OptionError, match="ISO 3166 code"):
        country_code(text)
