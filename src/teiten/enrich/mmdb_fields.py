"""Where each MaxMind-format database vendor puts the country and the AS of a network.

One reader serves GeoLite2/GeoIP2 Country, City and ASN, DB-IP and IPinfo files (and the
AS import, :mod:`teiten.enrich.asn`, reads the AS fields the same way): the
record layouts differ, so these functions look in each known place, first match wins.
"""

from __future__ import annotations

from typing import Any

__all__ = ["record_as_name", "record_asn", "record_country"]


def _alpha2(value: Any) -> str | None:
    if isinstance(value, str) and len(value) == 2 and value.isascii() and value.isalpha():
        return value.upper()
    return None


def record_country(record: Any) -> str | None:
    """ISO alpha-2 country of a record, or None.

    GeoLite2/GeoIP2/DB-IP: ``country.iso_code``, else ``registered_country.iso_code``
    (networks with no located country, e.g. some anycast or EU-wide blocks).
    IPinfo and flat layouts: ``country_code`` or ``country`` as a plain string.
    """
    if not isinstance(record, dict):
        return None
    for key in ("country", "registered_country"):
        place = record.get(key)
        if isinstance(place, dict) and (code := _alpha2(place.get("iso_code"))):
            return code
    return _alpha2(record.get("country_code")) or _alpha2(record.get("country"))


def _as_number(value: Any) -> int | None:
    if isinstance(value, str):
        text = value.strip()
        if text[:2].upper() == "AS":
            text = text[2:]
        value = int(text) if text.isdecimal() else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**32:
        return value
    return None


def record_asn(record: Any) -> int | None:
    """Origin AS number of a record, or None.

    GeoLite2/GeoIP2 ASN and ISP, DB-IP ASN: ``autonomous_system_number``; GeoIP2
    Enterprise: ``traits.autonomous_system_number``; IPinfo: ``asn`` as ``"AS2497"``
    (or an int).
    """
    for value in _as_fields(record, "autonomous_system_number", "asn"):
        if (asn := _as_number(value)) is not None:
            return asn
    return None


def record_as_name(record: Any) -> str | None:
    """Name of the AS holder in a record, or None.

    GeoLite2/GeoIP2 ASN, DB-IP ASN: ``autonomous_system_organization`` (GeoIP2
    Enterprise: under ``traits``); IPinfo: ``as_name``.
    """
    for value in _as_fields(record, "autonomous_system_organization", "as_name"):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _as_fields(record: Any, key: str, flat: str) -> list[Any]:
    """A record's values of MaxMind's ``key`` (at the top, then IPinfo's ``flat``, then
    ``key`` under GeoIP2 Enterprise's ``traits``), in that order."""
    if not isinstance(record, dict):
        return []
    traits = record.get("traits")
    return [
        record.get(key),
        record.get(flat),
        traits.get(key) if isinstance(traits, dict) else None,
    ]
