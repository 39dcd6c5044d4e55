"""Country names for reports, in English or in the reader's language.

Names come from pycountry (ISO 3166-1) and its gettext catalogues, preferring the
short common name ("South Korea", "韓国") over the formal one where ISO has one.
Registry data also uses codes ISO does not assign to countries: the RIRs' ``EU`` and
``AP``, and the widely used user-assigned ``XK``; ``ZZ`` means unknown.
"""

from __future__ import annotations

import gettext
from functools import cache

import pycountry

__all__ = ["country_name"]

_NON_ISO = {
    "EU": {"en": "European Union", "ja": "欧州連合"},
    "AP": {"en": "Asia/Pacific Region", "ja": "アジア太平洋地域"},
    "XK": {"en": "Kosovo", "ja": "コソボ"},
}
_UNKNOWN = {"", "ZZ", "XX", "--"}


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
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return None
    translate = _translation(lang).gettext
    common = getattr(country, "common_name", None)
    if common is not None and (lang == "en" or translate(common) != common):
        return translate(common)
    return translate(country.name)
