"""GeoTagger over the built-in RIR data: known answers, bogons, and the distinct-source cache."""

from __future__ import annotations

import ipaddress

import iptocc
import numpy as np
import pytest

from teiten.enrich import GeoTags, RirTagger, open_geo
from teiten.enrich.addresses import _IPV4_BOGONS, _IPV6_BOGONS
from teiten.enrich.addresses import address_rows as rows

# Blocks whose registry country is a matter of public record.
KNOWN = {
    "133.11.0.1": "JP",  # 133.11.0.0/16, University of Tokyo (JPNIC)
    "203.178.141.194": "JP",  # WIDE Project (JPNIC)
    "8.8.8.8": "US",  # Google Public DNS (ARIN)
    "193.0.0.1": "NL",  # RIPE NCC's own network, Amsterdam
    "2001:200::1": "JP",  # 2001:200::/32, WIDE Project
    "2001:4860:4860::8888": "US",  # Google Public DNS (ARIN)
}

BOGONS = [
    "0.1.2.3",
    "10.1.2.3",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.1.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.0.2.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "64:ff9b::808:808",  # NAT64
    "2001:db8::1",
    "2002:808:808::1",  # 6to4
    "2001:0:4136:e378::1",  # Teredo
    "3fff::1",
]


BOGON_NETS = [ipaddress.IPv4Network(p) for p in _IPV4_BOGONS]
GLOBAL_V6 = ipaddress.IPv6Network("2000::/3")
BOGON_V6_NETS = [ipaddress.IPv6Network(p) for p in _IPV6_BOGONS]


def is_bogon(text: str) -> bool:
    address = ipaddress.ip_address(text)
    if address.version == 4:
        return any(address in net for net in BOGON_NETS)
    return address not in GLOBAL_V6 or any(address in net for net in BOGON_V6_NETS)


def names(tags: GeoTags) -> list[str | None]:
    return [tags.countries[i] if i >= 0 else None for i in tags.country_code.tolist()]


def random_public_ipv4(rng: np.random.Generator, n: int) -> list[str]:
    """Distinct unicast addresses outside every special-purpose block."""
    found: set[ipaddress.IPv4Address] = set()
    while len(found) < n:
        address = ipaddress.IPv4Address(int(rng.integers(1 << 24, 224 << 24)))
        if address.is_global and not any(address in net for net in BOGON_NETS):
            found.add(address)
    return [str(a) for a in sorted(found)]


def test_known_answers() -> None:
    tagger = open_geo()
    assert names(tagger.tag(rows(KNOWN))) == list(KNOWN.values())


def test_edition_names_the_data() -> None:
    tagger = open_geo()
    assert isinstance(tagger, RirTagger)
    assert tagger.database == "iptocc (RIR delegated statistics)"
    assert tagger.edition.startswith("iptocc 3.")


def test_bogons_are_unknown_without_lookup() -> None:
    tagger = open_geo()
    tags = tagger.tag(rows(BOGONS))
    assert (tags.country_code == -1).all()
    assert tagger.lookups == 0


def test_no_asn_from_rir_data() -> None:
    tags = open_geo().tag(rows(KNOWN))
    assert not tags.has_asn.any()
    assert (tags.asn == 0).all()


def test_cross_check_against_iptocc_per_address() -> None:
    """Every answer, cold and warm, matches asking iptocc about the address itself."""
    rng = np.random.default_rng(7)
    sample = random_public_ipv4(rng, 3000) + list(KNOWN) + BOGONS
    packed = rng.integers(0, 256, (600, 16), np.uint8)
    packed[:400, :2] = rng.choice([[0x20, 0x01], [0x24, 0x00], [0x2A, 0x01]], 400)  # dense /16s
    sample += [str(ipaddress.IPv6Address(p.tobytes())) for p in packed]
    expected = [None if is_bogon(a) else iptocc.country_code(a) for a in sample]
    tagger = open_geo()
    cold = names(tagger.tag(rows(sample)))
    warm = names(tagger.tag(rows(sample[::-1])))[::-1]
    assert cold == expected
    assert warm == expected
    assert sum(code is not None for code in expected) > 1500  # not all unknown
    assert sum(code is not None for code in expected[-600:]) > 50  # IPv6 answers too


def test_each_distinct_source_is_looked_up_once() -> None:
    rng = np.random.default_rng(1)
    sources = random_public_ipv4(rng, 500)
    packets = rows(sources)[rng.integers(0, 500, 20_000)]
    tagger = open_geo()
    first = tagger.tag(packets)
    assert tagger.lookups == len(sources)
    second = tagger.tag(packets[::-1])
    assert tagger.lookups == len(sources)  # warm: nothing new asked
    np.testing.assert_array_equal(second.country_code, first.country_code[::-1])


def test_vocabulary_is_stable_across_calls() -> None:
    tagger = open_geo()
    first = tagger.tag(rows(["8.8.8.8"]))
    second = tagger.tag(rows(["133.11.0.1", "8.8.8.8"]))
    assert first.countries == ["US"]
    assert second.countries == ["US", "JP"]
    assert second.country_code.tolist() == [1, 0]


def test_cache_starts_over_when_full_and_stays_correct() -> None:
    rng = np.random.default_rng(3)
    sample = random_public_ipv4(rng, 400)
    direct = names(open_geo().tag(rows(sample)))
    tagger = RirTagger(cache_limit=100)
    for start in range(0, 400, 80):
        chunk = sample[start : start + 80]
        assert names(tagger.tag(rows(chunk))) == direct[start : start + 80]
        assert len(tagger._v4) == 80  # a second chunk would pass 100: it starts over
    assert tagger.lookups == 400  # each address asked once
    assert names(tagger.tag(rows(sample))) == direct
    assert tagger.lookups == 400 + 320  # the last chunk came from the cache
    assert len(tagger._v4) == 0  # 320 new answers: more than it holds, not kept
    tagger.tag(rows(sample[-80:]))
    assert tagger.lookups == 400 + 320 + 80  # so the last chunk is asked again


def test_ipv6_cache_starts_over_when_full_and_stays_correct() -> None:
    sample = [f"2001:200::{i:x}" for i in range(1, 401)]  # WIDE Project, JP
    tagger = RirTagger(cache_limit=100)
    for start in range(0, 400, 80):
        assert names(tagger.tag(rows(sample[start : start + 80]))) == ["JP"] * 80
        assert len(tagger._v6) == 80
    assert tagger.lookups == 400
    assert names(tagger.tag(rows(sample[-80:] + sample[:10]))) == ["JP"] * 90
    assert tagger.lookups == 410  # only the 10 not in the cache were asked


def test_mixed_families_and_duplicates_keep_row_order() -> None:
    addresses = ["2001:200::1", "8.8.8.8", "10.0.0.1", "2001:200::1", "fe80::1", "8.8.8.8"]
    tags = open_geo().tag(rows(addresses))
    assert names(tags) == ["JP", "US", None, "JP", None, "US"]


def test_empty_input() -> None:
    tags = open_geo().tag(np.zeros((0, 16), np.uint8))
    assert len(tags) == 0
    assert tags.country_code.dtype == np.int16
    assert tags.asn.dtype == np.uint32
    assert tags.has_asn.dtype == bool


@pytest.mark.parametrize(
    "bad", [np.zeros((3, 4), np.uint8), np.zeros((3, 16), np.int64), np.zeros(16, np.uint8)]
)
def test_rejects_rows_that_are_not_addresses(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"uint8\[n, 16\]"):
        open_geo().tag(bad)


def test_arrow_columns() -> None:
    tags = open_geo().tag(rows(["8.8.8.8", "10.0.0.1", "133.11.0.1"]))
    assert tags.country_array().to_pylist() == ["US", None, "JP"]
    assert tags.asn_array().to_pylist() == [None, None, None]
