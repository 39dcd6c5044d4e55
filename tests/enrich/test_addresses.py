"""Address keys and bogon tests, against the obvious per-address implementation."""

from __future__ import annotations

import ipaddress

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from teiten.enrich.addresses import (
    _IPV4_BOGONS,
    _IPV6_BOGONS,
    ipv4_bogon,
    ipv4_mapped,
    ipv6_bogon,
    ipv6_distinct,
)
from teiten.enrich.addresses import address_rows as rows

V4_NETS = [ipaddress.IPv4Network(p) for p in _IPV4_BOGONS]
V6_NETS = [ipaddress.IPv6Network(p) for p in _IPV6_BOGONS]
GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def test_ipv4_mapped_rows_become_uint32() -> None:
    mapped, keys = ipv4_mapped(rows(["1.2.3.4", "2001:200::1", "255.255.255.255", "::1"]))
    assert mapped.tolist() == [True, False, True, False]
    assert keys.dtype == np.uint32
    assert keys.tolist() == [0x01020304, 0xFFFFFFFF]


@given(st.lists(st.integers(0, 2**32 - 1), max_size=200))
def test_ipv4_bogon_matches_the_network_list(values: list[int]) -> None:
    samples = values + [int(net.network_address) for net in V4_NETS]
    samples += [int(net.broadcast_address) for net in V4_NETS]
    expected = [any(ipaddress.IPv4Address(v) in net for net in V4_NETS) for v in samples]
    assert ipv4_bogon(np.array(samples, np.uint32)).tolist() == expected


def _ipv6_expected(address: ipaddress.IPv6Address) -> bool:
    return address not in GLOBAL_UNICAST or any(address in net for net in V6_NETS)


@given(st.lists(st.binary(min_size=16, max_size=16), max_size=100))
def test_ipv6_bogon_matches_the_network_list(packed: list[bytes]) -> None:
    addresses = [ipaddress.IPv6Address(p) for p in packed]
    addresses += [net.network_address for net in V6_NETS] + [ipaddress.IPv6Address("2001:200::")]
    keys = np.frombuffer(b"".join(a.packed for a in addresses), "V16")
    assert ipv6_bogon(keys).tolist() == [_ipv6_expected(a) for a in addresses]


@settings(max_examples=50)
@given(st.lists(st.binary(min_size=16, max_size=16), min_size=1, max_size=30), st.data())
def test_ipv6_distinct_is_numeric_unique(pool: list[bytes], data: st.DataObject) -> None:
    picks = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=100))
    packed = np.frombuffer(b"".join(picks), np.uint8).reshape(-1, 16)
    keys, inverse = ipv6_distinct(packed)
    numbers = sorted({int.from_bytes(p, "big") for p in picks})
    assert [int.from_bytes(k, "big") for k in keys.tolist()] == numbers
    assert [keys[i].tobytes() for i in inverse] == picks


def test_network_spans_hold_the_addresses_of_their_networks_only():
    """A stored address is in a filter's spans exactly when ipaddress puts it in one of
    the networks: IPv4 networks hold IPv4 sources only, IPv6 ones (even ``::/0`` and
    ``::/1``, which hold ``::ffff:0:0/96`` where IPv4 is stored) IPv6 sources only."""
    import ipaddress
    import random

    from teiten.enrich.addresses import network_spans

    rng = random.Random(5)
    addresses = [ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(300)]
    addresses += [
        ipaddress.IPv6Address(rng.getrandbits(128) >> rng.randrange(128)) for _ in range(300)
    ]
    addresses += [ipaddress.IPv4Address("10.1.2.3"), ipaddress.IPv6Address("::1")]
    networks = ["::/0", "::/1", "::/96", "::ffff:0:0/96", "::ffff:10.0.0.0/104", "0.0.0.0/0",
                "10.0.0.0/8", "2000::/3", "10.1.2.3", "::1"]  # fmt: skip

    def stored(a: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bytes:
        return (ipaddress.IPv6Address(f"::ffff:{a}") if a.version == 4 else a).packed

    for text in networks:
        spans = network_spans([text])
        network = ipaddress.ip_network(text)
        for a in addresses:
            held = any(first <= stored(a) <= last for first, last in spans)
            expected = a.version == network.version and a in network
            if (
                network.version == 6
                and network.prefixlen >= 96
                and network.subnet_of(ipaddress.ip_network("::ffff:0:0/96"))
            ):  # an IPv4-mapped network: the IPv4 addresses it maps
                expected = a.version == 4 and ipaddress.IPv6Address(f"::ffff:{a}") in network
            assert held == expected, (text, str(a))
    assert len(network_spans(["::/0"])) == 2 and len(network_spans(["10.0.0.0/8"])) == 1
