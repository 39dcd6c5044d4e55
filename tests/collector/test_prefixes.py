"""Prefix membership of 16-byte addresses, cross-checked with the ipaddress module."""

from __future__ import annotations

import ipaddress

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from teiten.collector import PrefixSet

PREFIXES = ["192.0.2.0/24", "198.51.100.128/25", "10.0.0.0/7", "2001:db8:7e1::/48", "fe80::/10"]


def _row(ip: ipaddress._BaseAddress) -> bytes:
    return (ipaddress.IPv6Address(f"::ffff:{ip}") if ip.version == 4 else ip).packed


def _inside(ip: ipaddress._BaseAddress) -> bool:
    return any(ip in n for n in map(ipaddress.ip_network, PREFIXES) if n.version == ip.version)


addresses = st.one_of(
    st.ip_addresses(v=4),
    st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None),
    st.sampled_from(["192.0.2.0", "192.0.2.255", "192.0.3.0", "198.51.100.127", "11.255.255.255",
                     "12.0.0.0", "2001:db8:7e1:ffff::1", "2001:db8:7e2::", "febf::1", "fec0::"]
                    ).map(ipaddress.ip_address),
)  # fmt: skip


@settings(max_examples=300, deadline=None)  # a loaded CI machine is no failure
@given(st.lists(addresses, min_size=1, max_size=40))
def test_inside_agrees_with_ipaddress(ips):
    rows = np.frombuffer(b"".join(_row(ip) for ip in ips), np.uint8).reshape(-1, 16)
    found = PrefixSet(PREFIXES).inside(rows)
    assert found.tolist() == [_inside(ip) for ip in ips]
    assert PrefixSet(PREFIXES).outside_count(rows) == sum(not _inside(ip) for ip in ips)


def test_an_ipv4_prefix_never_matches_an_ipv6_address_with_the_same_bits():
    v6 = ipaddress.IPv6Address("c000:0200::1")  # starts with the bytes of 192.0.2.0
    rows = np.frombuffer(v6.packed, np.uint8).reshape(1, 16)
    assert not PrefixSet(["192.0.2.0/24"]).inside(rows).any()


def test_no_prefixes_means_nothing_is_inside_and_slash_zero_everything():
    rows = np.frombuffer(_row(ipaddress.ip_address("203.0.113.9")), np.uint8).reshape(1, 16)
    assert PrefixSet([]).outside_count(rows) == 1
    assert PrefixSet(["0.0.0.0/0"]).outside_count(rows) == 0
