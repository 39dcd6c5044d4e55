"""Country names for reports, in English or in the reader's language, and back to codes.

Names come from pycountry (ISO 3166-1) and its gettext catalogues, preferring the
short common name ("South Korea", "韓国") over the formal one where ISO has one.
Registry data also uses codes ISO does not assign to countries: the RIRs' ``EU`` and
``AP``, and the widely used user-assigned ``XK``; ``ZZ`` means unknown.

:func:`country_code` reads what a user types (``JP``, ``jpn``, ``Japan``, ``日本``,
``South Korea``, ``韓国``) from the same tables, plus a few everyday names ISO does not
list (:data:`ALIASES`).
"""

from __future__ import annotations

import difflib
import gettext
import unicodedata
from functools import cache

import pycountry

from teiten.errors import OptionError

__all__ = ["ALIASES", "SHORT_NAMES", "country_code", "country_in_text", "country_name"]

_NON_ISO = {
    "EU": {"en": "European Union", "ja": "欧州連合"},
    "AP": {"en": "Asia/Pacific Region", "ja": "アジア太平洋地域"},
    "XK": {"en": "Kosovo", "ja": "コソボ"},
}
_UNKNOWN = {"", "ZZ", "XX", "--"}
# Names as analysts write them where ISO's (or its Japanese catalogue's) read as formal or
# dated: "Russia", not "Russian Federation"; 「ジョージア」, not 「グルジア」 (renamed in 2015).
SHORT_NAMES = {
    "en": {
        "RU": "Russia",
        "BN": "Brunei",
        "CD": "DR Congo",
        "CG": "Republic of the Congo",
        "FK": "Falkland Islands",
        "FM": "Micronesia",
        "PS": "Palestine",
        "VA": "Vatican City",
        "VG": "British Virgin Islands",
        "VI": "US Virgin Islands",
        "UM": "US Minor Outlying Islands",
        "BQ": "Caribbean Netherlands",
        "SH": "Saint Helena",
        "MF": "Saint Martin",
        "SX": "Sint Maarten",
    },
    "ja": {
        "RU": "ロシア",
        "GE": "ジョージア",
        "AU": "オーストラリア",
        "MN": "モンゴル",
        "KG": "キルギス",
        "BN": "ブルネイ",
        "ER": "エリトリア",
        "CG": "コンゴ共和国",
        "DM": "ドミニカ国",
        "AW": "アルバ",
        "AI": "アンギラ",
        "BM": "バミューダ",
        "AQ": "南極",
        "AS": "米領サモア",
        "CC": "ココス諸島",
        "CV": "カーボベルデ",
        "FK": "フォークランド諸島",
        "KN": "セントクリストファー・ネービス",
        "VC": "セントビンセント・グレナディーン",
        "TC": "タークス・カイコス諸島",
        "PM": "サンピエール・ミクロン",
        "SJ": "スバールバル・ヤンマイエン",
        "SH": "セントヘレナ",
        "WF": "ウォリス・フツナ",
        "BQ": "カリブ海オランダ",
        "GS": "サウスジョージア・サウスサンドウィッチ諸島",
        "HM": "ハード島・マクドナルド諸島",
        "IO": "英領インド洋地域",
        "MF": "サン・マルタン（フランス領）",
        "SX": "シント・マールテン（オランダ領）",
        "VA": "バチカン",
        "UM": "米領有小離島",
    },
}
# English names read with "the" inside a sentence ("in the United States").
_THE_WORDS = ("United ", "Republic", " Islands", "Union", "Region")
_THE_NAMES = {
    "Netherlands",
    "Philippines",
    "Bahamas",
    "Gambia",
    "Maldives",
    "Comoros",
    "Seychelles",
    "Holy See (Vatican City State)",
    "Caribbean Netherlands",
}


@cache
def _translation(lang: str) -> gettext.NullTranslations:
    """pycountry's ISO 3166-1 catalogue for ``lang``, or no translation (English)."""
    if lang == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang], fallback=True)


@cache
def country_name(code: str | None, lang: str = "en") -> str | None:
    """Name of a country code (``"JP"`` → ``"Japan"``), or None when unknown.

    ``lang`` is a gettext language (``"ja"``, ``"de"``, ``"pt_BR"``); a language
    pycountry has no catalogue for falls back to English.
    """
    if code is None:
        return None
    code = code.strip().upper()
    if code in _UNKNOWN:
        return None
    if code in _NON_ISO:
        names = _NON_ISO[code]
        return names.get(lang.split("_")[0], names["en"])
    short = SHORT_NAMES.get(lang.split("_")[0], {}).get(code)
    if short is not None:
        return short
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return None
    translate = _translation(lang).gettext
    common = getattr(country, "common_name", None)
    if common is not None and (lang == "en" or translate(common) != common):
        return translate(common)
    return translate(country.name)


def country_in_text(code: str | None, lang: str = "en") -> str | None:
    """:func:`country_name` as a sentence uses it: "the United States", "the Netherlands"."""
    name = country_name(code, lang)
    if name is None or lang.split("_")[0] != "en":
        return name
    if name in _THE_NAMES or any(word in name for word in _THE_WORDS):
        return f"the {name}"
    return name


# Everyday names ISO 3166-1 and its Japanese catalogue do not give (keys as _key makes them).
ALIASES = {
    "korea": "KR",
    "america": "US",
    "アメリカ": "US",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "イギリス": "GB",
    "russia": "RU",
    "ロシア": "RU",
    "turkey": "TR",
    "holland": "NL",
    "czech republic": "CZ",
    "ivory coast": "CI",
    "burma": "MM",
    "swaziland": "SZ",
    "macedonia": "MK",
    "cape verde": "CV",
    "east timor": "TL",
    "vatican": "VA",
    "バチカン": "VA",
    "brunei": "BN",
    "palestine": "PS",
    "dr congo": "CD",
    "uae": "AE",
}


def country_code(text: str) -> str:
    """The code of a country given by code or name, any case: ``"日本"`` → ``"JP"``.

    Accepts ISO 3166-1 alpha-2 and alpha-3 codes, the registries' ``EU``/``AP``/``XK``,
    and the English and Japanese names :func:`country_name` uses, ISO's full and formal
    names, and :data:`ALIASES`. Anything else is an :class:`OptionError` listing the
    closest names.
    """
    key = _key(text)
    code = _names().get(key)
    if code is not None:
        return code
    # Codes are compared with codes and names with names: "Japn" is not "jpn" (JP) but Japan.
    pool = [k for k in _names() if (len(k) <= 3) == (len(key) <= 3)]
    close = difflib.get_close_matches(key, pool, n=8, cutoff=0.7)
    codes = list(dict.fromkeys(_names()[k] for k in close))[:4]
    hint = f" (closest: {', '.join(_described(c) for c in codes)})" if codes else ""
    raise OptionError(
        f"unknown country {text!r}{hint}; give an ISO 3166 code (JP) or an English or "
        "Japanese name (Japan, 日本)"
    )


def _described(code: str) -> str:
    name = country_name(code)
    return f"{name} ({code})" if name else code


def _key(text: str) -> str:
    """Fold case, width, accents (Latin only) and spacing: "Côte d'Ivoire" → "cote d'ivoire"."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    parts = unicodedata.normalize("NFKD", folded)
    if all(ord(c) < 0x250 or unicodedata.combining(c) for c in parts):  # Latin: drop accents
        folded = "".join(c for c in parts if not unicodedata.combining(c))
    words = folded.split()
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


@cache
def _names() -> dict[str, str]:
    """Every accepted spelling (as _key makes it) → code."""
    ja = _translation("ja").gettext
    names: dict[str, str] = {}
    derived: dict[str, set[str]] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        names[_key(code)] = names[_key(country.alpha_3)] = code
        english = [
            getattr(country, attr, None) for attr in ("name", "common_name", "official_name")
        ]
        for name in filter(None, english):
            for spelling in (name, ja(name)):
                names.setdefault(_key(spelling), code)
                for variant in _variants(spelling):
                    derived.setdefault(_key(variant), set()).add(code)
    for spellings in SHORT_NAMES.values():
        for code, name in spellings.items():
            names.setdefault(_key(name), code)
    for code, spelled in _NON_ISO.items():
        names[_key(code)] = code
        for name in spelled.values():
            names.setdefault(_key(name), code)
    for variant, codes in derived.items():
        if len(codes) == 1:  # "Korea" alone is both Koreas: only an alias decides
            names.setdefault(variant, codes.pop())
    for unknown in _UNKNOWN:
        names.pop(_key(unknown), None)
    names.pop("", None)
    names.update(ALIASES)
    return names


def _variants(name: str) -> list[str]:
    """Other spellings of an ISO name.

    "Korea, Republic of" → "Republic of Korea", "Korea"; "大韓民国 (韓国)" → "大韓民国", "韓国".
    """
    out = []
    if " (" in name and name.endswith(")"):
        head, inner = name[:-1].split(" (", 1)
        out += [head, inner]
    if ", " in name:
        head, tail = name.split(", ", 1)
        out += [f"{tail} {head}", head]
    return out
