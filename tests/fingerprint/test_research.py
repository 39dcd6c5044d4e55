"""research: the user's list of research scanner networks (parse, validate, match)."""

from __future__ import annotations

import ipaddress
import random

import numpy as np
import pytest

from decode.builders import SRC4, SRC6, SYN, ether, ipv4, ipv6, tcp
from teiten.enrich import GeoTags
from teiten.enrich.addresses import address_rows
from teiten.errors import ReferenceDataError
from teiten.fingerprint import ResearchNetworks, TagContext

from ._packets import labels

LIST = """\
# research scanners seen at our sensors
198.51.100.0/24   Example research scanner      # TEST-NET-2, stands for a real one
192.0.2.7                                       # one host
2001:db8::/48     Example research scanner (IPv6)
as64496           Example Scanning Inc.

203.0.113.128/25
203.0.113.0/25    adjacent halves merge into one range
"""


@pytest.fixture(scope="module")
def networks() -> ResearchNetworks:
    return ResearchNetworks.parse(LIST, "scanners.txt")


def test_parse_normalises_entries_and_names(networks):
    values = [(e.kind, e.value, e.name, e.line) for e in networks.entries]
    assert values == [
        ("ipv4", "198.51.100.0/24", "Example research scanner", 2),
        ("ipv4", "192.0.2.7/32", "", 3),
        ("ipv6", "2001:db8::/48", "Example research scanner (IPv6)", 4),
        ("asn", "AS64496", "Example Scanning Inc.", 5),
        ("ipv4", "203.0.113.128/25", "", 7),
        ("ipv4", "203.0.113.0/25", "adjacent halves merge into one range", 8),
    ]
    assert networks.counts() == {"ipv4": 4, "ipv6": 1, "asn": 1}
    assert networks.normalised().splitlines()[0] == "198.51.100.0/24\tExample research scanner"
    assert networks.digest.startswith("sha256:")
    # The digest depends on the entries, not on comments or spacing.
    again = ResearchNetworks.parse("\n".join(networks.normalised().splitlines()) + "\n# x\n")
    assert again.digest == networks.digest


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("192.0.2.0/24\n198.51.100.1/24 host bits\n", 2, "did you mean 198.51.100.0/24"),
        ("# header\n\n300.1.2.3/8\n", 3, "is not a network or AS number"),
        ("AS4294967296\n", 1, "larger than 4294967295"),
        ("ASX1 bad\n", 1, "'ASX1' is not a network"),
        ("2001:db8::/129\n", 1, "2001:db8::/129"),
    ],
)
def test_a_bad_line_names_the_file_and_line(text, line, says):
    with pytest.raises(ReferenceDataError) as err:
        ResearchNetworks.parse(text, "scanners.txt")
    assert err.value.line == line
    assert str(err.value).startswith(f"scanners.txt:{line}: ")
    assert says in str(err.value)


def test_match_against_ipaddress_as_an_independent_reference(networks):
    rng = random.Random(7)
    nets = [ipaddress.ip_network(e.value) for e in networks.entries if e.kind != "asn"]
    texts = []
    for net in nets:  # edges and insides of every network, and their neighbours
        first, last = int(net.network_address), int(net.broadcast_address)
        top = 2**32 - 1 if net.version == 4 else 2**128 - 1
        for value in (first, last, first - 1, last + 1, rng.randint(first, last)):
            if 0 <= value <= top:
                texts.append(
                    str(
                        ipaddress.ip_address(value)
                        if net.version == 6
                        else ipaddress.IPv4Address(value)
                    )
                )
    texts += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(2000)]
    texts += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(200)]
    texts += ["::ffff:0:0", "::", "2001:db8::1", "2001:db8:1::1", "::c633:6401"]
    expected = [any(ipaddress.ip_address(t) in n for n in nets) for t in texts]
    assert networks.match(address_rows(texts)).tolist() == expected


@pytest.mark.parametrize("seed", range(5))
def test_random_lists_of_all_sizes_against_ipaddress(seed):
    # Networks from /6 to /32, some overlapping or adjacent; addresses near their edges
    # and inside, so every /16-block state (outside, inside, partly) is exercised.
    rng = random.Random(seed)
    nets = []
    for _ in range(rng.randint(1, 40)):
        bits = rng.randint(6, 32)
        nets.append(ipaddress.IPv4Network((rng.getrandbits(bits) << (32 - bits), bits)))
    listed = ResearchNetworks.parse("".join(f"{n}\n" for n in nets))
    values = [rng.getrandbits(32) for _ in range(3000)]
    for n in nets:
        first, last = int(n.network_address), int(n.broadcast_address)
        values += [first, last, max(first - 1, 0), min(last + 1, 2**32 - 1)]
        values += [rng.randint(first, last) for _ in range(5)]
    texts = [str(ipaddress.IPv4Address(v)) for v in values]
    expected = [any(ipaddress.IPv4Address(v) in n for n in nets) for v in values]
    assert listed.match(address_rows(texts)).tolist() == expected


def test_as_entries_match_the_source_as_when_known(networks):
    rows = address_rows(["8.8.8.8", "8.8.4.4", "1.1.1.1", "2001:db8:1::1"])
    asn = np.array([64496, 64496, 13335, 64496], np.uint32)
    has_asn = np.array([True, False, True, True])
    assert networks.match(rows).tolist() == [False, False, False, False]
    assert networks.match(rows, asn, has_asn).tolist() == [True, False, False, True]


def test_an_empty_list_matches_nothing():
    empty = ResearchNetworks.parse("# nothing yet\n")
    assert len(empty) == 0 and not empty.match(address_rows(["192.0.2.7"])).any()


def test_the_fingerprint_uses_the_context(networks):
    listed = ether(ipv4(tcp(flags=SYN), src="198.51.100.99"))
    listed6 = ether(ipv6(tcp(flags=SYN), src="2001:db8:0:ff::1"), 0x86DD)
    context = TagContext(research=networks)
    assert "research" in labels(listed, context)
    assert "research" in labels(listed6, context)
    assert "research" not in labels(listed)  # no list configured: not applicable
    assert "research" not in labels(ether(ipv4(tcp(flags=SYN), src="8.8.8.8")), context)
    assert SRC4 == "198.51.100.7" and "research" in labels(ether(ipv4(tcp())), context)
    assert SRC6 == "2001:db8::7" and "research" in labels(ether(ipv6(tcp()), 0x86DD), context)


def test_the_fingerprint_reads_the_as_from_the_chunks_geo_tags(networks):
    packet = ether(ipv4(tcp(flags=SYN), src="8.8.8.8"))
    geo = GeoTags(np.array([-1], np.int16), [], np.array([64496], np.uint32), np.array([True]))
    assert "research" in labels(packet, TagContext(research=networks).for_chunk(geo))
    other = GeoTags(geo.country_code, [], np.array([15169], np.uint32), np.array([True]))
    assert "research" not in labels(packet, TagContext(research=networks).for_chunk(other))
