"""Small MaxMind-format databases built for the enrich tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

BUILD_EPOCH = 1_714_521_600  # 2024-05-01 00:00:00 UTC


class _DatedWriter(MMDBWriter):
    """mmdb-writer stamps the current time; the tests need a known build date."""

    def _build_meta(self) -> dict[str, Any]:
        return {**super()._build_meta(), "build_epoch": BUILD_EPOCH}


def write_mmdb(
    path: Path, database_type: str, networks: dict[str, Any], ip_version: int = 6
) -> Path:
    """A .mmdb file mapping each network (CIDR text) to its record."""
    writer = _DatedWriter(
        ip_version=ip_version, database_type=database_type, ipv4_compatible=ip_version == 6
    )
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def make_mmdb() -> Callable[..., Path]:
    """:func:`write_mmdb`, for tests that need a database of their own."""
    return write_mmdb


def _geolite_country(code: str) -> dict[str, Any]:
    return {"country": {"iso_code": code}, "registered_country": {"iso_code": code}}


@pytest.fixture(scope="session")
def country_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GeoLite2-Country layout, IPv4 and IPv6, with one registered-country-only block."""
    return write_mmdb(
        tmp_path_factory.mktemp("mmdb") / "country.mmdb",
        "GeoLite2-Country",
        {
            "133.11.0.0/16": _geolite_country("JP"),
            "8.8.8.0/24": _geolite_country("US"),
            "2001:200::/32": _geolite_country("JP"),
            "2a00:1450::/32": _geolite_country("IE"),
            "5.0.0.0/16": {"registered_country": {"iso_code": "DE"}},
            "10.0.0.0/8": _geolite_country("FR"),  # a bogon: must never be asked
        },
    )


@pytest.fixture(scope="session")
def asn_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GeoLite2-ASN layout."""
    asn = {"autonomous_system_number": 2501, "autonomous_system_organization": "UTokyo"}
    return write_mmdb(
        tmp_path_factory.mktemp("mmdb") / "asn.mmdb",
        "GeoLite2-ASN",
        {
            "133.11.0.0/16": asn,
            "8.8.8.0/24": {"autonomous_system_number": 15169},
            "2001:200::/32": {"autonomous_system_number": 2500},
        },
    )


@pytest.fixture(scope="session")
def ipinfo_mmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """IPinfo country_asn layout: flat strings, ``asn`` as ``"AS123"``."""
    return write_mmdb(
        tmp_path_factory.mktemp("mmdb") / "ipinfo.mmdb",
        "ipinfo country_asn.mmdb",
        {
            "133.11.0.0/16": {"country": "JP", "asn": "AS2501", "as_name": "UTokyo"},
            "2001:4860::/32": {"country_code": "US", "asn": 15169},
        },
    )
