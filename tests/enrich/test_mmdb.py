"""GeoTagger over MaxMind-format files built by the tests (GeoLite2, ASN, IPinfo layouts)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

import maxminddb
import numpy as np
import pytest

from teiten.enrich import GeoTags, MmdbTagger, open_geo
from teiten.enrich.addresses import address_rows as rows
from teiten.enrich.mmdb_fields import record_asn, record_country
from teiten.errors import GeoDatabaseError

SOURCES = ["133.11.7.7", "8.8.8.8", "2001:200::53", "2a00:1450::1", "5.0.1.1", "9.9.9.9", "::1"]


def names(tags: GeoTags) -> list[str | None]:
    return [tags.countries[i] if i >= 0 else None for i in tags.country_code.tolist()]


def asns(tags: GeoTags) -> list[int | None]:
    return [int(a) if has else None for a, has in zip(tags.asn, tags.has_asn, strict=True)]


def test_country_database(country_mmdb: Path) -> None:
    with open_geo(country_mmdb) as tagger:
        tags = tagger.tag(rows(SOURCES))
    assert names(tags) == ["JP", "US", "JP", "IE", "DE", None, None]
    assert not tags.has_asn.any()


def test_edition_from_metadata(country_mmdb: Path) -> None:
    with open_geo(country_mmdb) as tagger:
        assert isinstance(tagger, MmdbTagger)
        assert tagger.database == "GeoLite2-Country"
        assert tagger.edition == "GeoLite2-Country build 2024-05-01"


def test_bogons_are_not_asked(country_mmdb: Path) -> None:
    with open_geo(country_mmdb) as tagger:
        tags = tagger.tag(rows(["10.1.2.3", "fe80::1"]))
        assert tagger.lookups == 0
    assert (tags.country_code == -1).all()  # the file says FR for 10/8; ignored


def test_asn_database(asn_mmdb: Path) -> None:
    with open_geo(asn_mmdb) as tagger:
        tags = tagger.tag(rows(SOURCES))
    assert asns(tags) == [2501, 15169, 2500, None, None, None, None]
    assert (tags.country_code == -1).all()


def test_ipinfo_layout(ipinfo_mmdb: Path) -> None:
    with open_geo(ipinfo_mmdb) as tagger:
        tags = tagger.tag(rows(["133.11.0.1", "2001:4860::8888", "8.8.8.8"]))
    assert names(tags) == ["JP", "US", None]
    assert asns(tags) == [2501, 15169, None]


def test_country_with_asn_from_a_second_database(country_mmdb: Path, asn_mmdb: Path) -> None:
    with open_geo(country_mmdb, asn_path=asn_mmdb) as tagger:
        tags = tagger.tag(rows(SOURCES))
        assert tagger.edition == (
            "GeoLite2-Country build 2024-05-01; GeoLite2-ASN build 2024-05-01"
        )
    assert names(tags) == ["JP", "US", "JP", "IE", "DE", None, None]
    assert asns(tags) == [2501, 15169, 2500, None, None, None, None]


def test_rir_country_with_asn_database(asn_mmdb: Path) -> None:
    with open_geo(asn_path=asn_mmdb) as tagger:
        tags = tagger.tag(rows(["133.11.7.7", "8.8.8.8"]))
    assert names(tags) == ["JP", "US"]
    assert asns(tags) == [2501, 15169]


def test_warm_cache_gives_the_same_answers(country_mmdb: Path) -> None:
    packets = rows(SOURCES)[np.random.default_rng(0).integers(0, len(SOURCES), 5000)]
    with open_geo(country_mmdb) as tagger:
        cold = tagger.tag(packets)
        asked = tagger.lookups
        warm = tagger.tag(packets)
        assert tagger.lookups == asked == 6  # distinct routable sources, once
    np.testing.assert_array_equal(cold.country_code, warm.country_code)


def test_ipv4_only_database_leaves_ipv6_unknown(
    tmp_path: Path, make_mmdb: Callable[..., Path]
) -> None:
    path = make_mmdb(
        tmp_path / "v4.mmdb",
        "DBIP-Country-Lite",
        {"8.8.8.0/24": {"country": {"iso_code": "US"}}},
        4,
    )
    with open_geo(path) as tagger:
        assert names(tagger.tag(rows(["8.8.8.8", "2001:200::1"]))) == ["US", None]


@pytest.mark.parametrize(
    "content",
    [b"", b"not a database\n" * 100, bytes(range(256)) * 64],
    ids=["empty", "text", "binary"],
)
def test_garbage_file_is_a_geo_database_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "GeoLite2-Country.mmdb"
    path.write_bytes(content)
    with pytest.raises(GeoDatabaseError, match=r"GeoLite2-Country\.mmdb: cannot open as a MaxMind"):
        open_geo(path)


def test_missing_file_is_a_geo_database_error(tmp_path: Path) -> None:
    with pytest.raises(GeoDatabaseError, match=r"missing\.mmdb.*built-in RIR"):
        open_geo(tmp_path / "missing.mmdb")


@pytest.mark.parametrize(
    ("record", "country"),
    [
        ({"country": {"iso_code": "JP"}, "registered_country": {"iso_code": "US"}}, "JP"),
        ({"registered_country": {"iso_code": "de"}}, "DE"),
        ({"country_code": "FR"}, "FR"),
        ({"country": "BR", "country_name": "Brazil"}, "BR"),
        ({"country": {"names": {"en": "Japan"}}}, None),
        ({"country_code": "Japan"}, None),
        ({"autonomous_system_number": 1}, None),
        ("JP", None),
        (None, None),
    ],
)
def test_record_country(record: object, country: str | None) -> None:
    assert record_country(record) == country


@pytest.mark.parametrize(
    ("record", "asn"),
    [
        ({"autonomous_system_number": 2497}, 2497),
        ({"asn": "AS2497"}, 2497),
        ({"asn": "as2497"}, 2497),
        ({"asn": 4200000000}, 4200000000),
        ({"traits": {"autonomous_system_number": 64496}}, 64496),
        ({"asn": "AS0"}, None),
        ({"asn": "ASX"}, None),
        ({"asn": True}, None),
        ({"country": {"iso_code": "JP"}}, None),
        (None, None),
    ],
)
def test_record_asn(record: object, asn: int | None) -> None:
    assert record_asn(record) == asn


def test_cross_check_against_the_reader_per_address(
    tmp_path: Path, make_mmdb: Callable[..., Path]
) -> None:
    """Addresses that share a database network share one query; answers stay per address."""
    rng = np.random.default_rng(11)
    networks = {}
    for i, value in enumerate(rng.integers(11 << 24, 100 << 24, 300).tolist()):  # no bogons
        network = ipaddress.ip_network((value, int(rng.integers(12, 29))), strict=False)
        networks[str(network)] = {"country": {"iso_code": ["JP", "US", "DE"][i % 3]}, "asn": i + 1}
    for i in range(50):
        network = ipaddress.IPv6Network(
            (0x2400_0000 + i * 256 << 96, int(rng.integers(24, 65))), False
        )
        networks[str(network)] = {"country_code": "NL", "autonomous_system_number": i + 64500}
    path = make_mmdb(tmp_path / "many.mmdb", "GeoIP2-Country", networks)
    sample = []
    for text in networks:  # addresses inside, at the edges of and just outside each network
        network = ipaddress.ip_network(text)
        size = network.num_addresses
        offsets = [int(size * f) for f in rng.random(5)] + [-1, 0, size - 1, size]
        sample += [str(network.network_address + o) for o in offsets]
    reader = maxminddb.open_database(path)
    expected_country = [record_country(reader.get(a)) for a in sample]
    expected_asn = [record_asn(reader.get(a)) for a in sample]
    with open_geo(path) as tagger:
        tags = tagger.tag(rows(sample))
    assert names(tags) == expected_country
    assert asns(tags) == expected_asn
    assert sum(c is not None for c in expected_country) > len(sample) // 2


def test_damaged_search_tree_is_a_geo_database_error(country_mmdb: Path, tmp_path: Path) -> None:
    data = bytearray(country_mmdb.read_bytes())
    data[:64] = b"\xff" * 64  # the first nodes of the search tree point past its end
    path = tmp_path / "damaged.mmdb"
    path.write_bytes(data)
    with open_geo(path) as tagger, pytest.raises(GeoDatabaseError, match="download the database"):
        tagger.tag(rows(["8.8.8.8"]))


def test_bad_asn_database_is_a_geo_database_error(country_mmdb: Path, tmp_path: Path) -> None:
    path = tmp_path / "GeoLite2-ASN.mmdb"
    path.write_text("not a database")
    with pytest.raises(GeoDatabaseError, match=r"GeoLite2-ASN\.mmdb"):
        open_geo(country_mmdb, asn_path=path)
