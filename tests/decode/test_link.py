"""Link layers: every LINKTYPE teiten reads leads to the same IP fields."""

from __future__ import annotations

import pytest

from teiten.capture import linktypes as lt
from teiten.decode import SkipReason

from .builders import (
    DST4,
    DST6,
    SRC4,
    SRC6,
    decode_one,
    ether,
    ipv4,
    ipv6,
    null,
    sll,
    sll2,
    tcp,
    udp,
)

V4 = ipv4(tcp(40000, 23))
V6 = ipv6(udp(53, 33333), nxt=17)


def assert_v4(r: dict[str, object]) -> None:
    assert (r["reason"], r["ip_version"], r["src"], r["dst"]) == (0, 4, SRC4, DST4)
    assert (r["proto"], r["sport"], r["dport"]) == (6, 40000, 23)


def assert_v6(r: dict[str, object]) -> None:
    assert (r["reason"], r["ip_version"], r["src"], r["dst"]) == (0, 6, SRC6, DST6)
    assert (r["proto"], r["sport"], r["dport"]) == (17, 53, 33333)


@pytest.mark.parametrize(
    "tags", [(), (0x8100,), (0x88A8, 0x8100), (0x9100, 0x8100), (0x88A8, 0x8100, 0x8100)]
)
def test_ethernet_with_any_vlan_stack(tags: tuple[int, ...]) -> None:
    assert_v4(decode_one(ether(V4, 0x0800, tags)))
    assert_v6(decode_one(ether(V6, 0x86DD, tags)))


@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_null_in_either_byte_order(byteorder: str) -> None:
    assert_v4(decode_one(null(V4, 2, byteorder), lt.LINKTYPE_NULL))
    for family in (24, 28, 30):
        assert_v6(decode_one(null(V6, family, byteorder), lt.LINKTYPE_NULL))


def test_loop_is_network_order() -> None:
    assert_v4(decode_one(null(V4, 2, ">"), lt.LINKTYPE_LOOP))
    assert_v6(decode_one(null(V6, 24, ">"), lt.LINKTYPE_LOOP))
    r = decode_one(null(V4, 2, "<"), lt.LINKTYPE_LOOP)
    assert r["reason"] == SkipReason.NOT_IP_OTHER_FAMILY


@pytest.mark.parametrize(
    "linktype", [lt.LINKTYPE_RAW, lt.LINKTYPE_RAW_DLT12, lt.LINKTYPE_RAW_DLT14]
)
def test_raw_takes_version_from_first_nibble(linktype: int) -> None:
    assert_v4(decode_one(V4, linktype))
    assert_v6(decode_one(V6, linktype))


def test_ipv4_and_ipv6_linktypes_insist_on_their_version() -> None:
    assert_v4(decode_one(V4, lt.LINKTYPE_IPV4))
    assert_v6(decode_one(V6, lt.LINKTYPE_IPV6))
    assert decode_one(V6, lt.LINKTYPE_IPV4)["reason"] == SkipReason.BAD_IP_VERSION
    assert decode_one(V4, lt.LINKTYPE_IPV6)["reason"] == SkipReason.BAD_IP_VERSION


def test_linux_cooked_v1_and_v2() -> None:
    assert_v4(decode_one(sll(V4, 0x0800), lt.LINKTYPE_LINUX_SLL))
    assert_v6(decode_one(sll(V6, 0x86DD), lt.LINKTYPE_LINUX_SLL))
    assert_v4(decode_one(sll2(V4, 0x0800), lt.LINKTYPE_LINUX_SLL2))
    assert_v6(decode_one(sll2(V6, 0x86DD), lt.LINKTYPE_LINUX_SLL2))
    assert decode_one(sll(b"", 0x0806), lt.LINKTYPE_LINUX_SLL)["reason"] == SkipReason.NOT_IP_ARP
    tagged = b"\x00\x0a\x08\x00" + V4  # 802.1Q tag left in place by the capturing host
    assert_v4(decode_one(sll(tagged, 0x8100), lt.LINKTYPE_LINUX_SLL))
    llc = decode_one(sll(b"\xaa\xaa\x03", 0x0004), lt.LINKTYPE_LINUX_SLL)
    assert llc["reason"] == SkipReason.NOT_IP_LLC


@pytest.mark.parametrize(
    ("ethertype", "expected"),
    [
        (0x0806, SkipReason.NOT_IP_ARP),
        (0x8035, SkipReason.NOT_IP_ARP),
        (0x88CC, SkipReason.NOT_IP_LLDP),
        (0x0026, SkipReason.NOT_IP_LLC),  # 802.3 length field (e.g. spanning tree)
        (1500, SkipReason.NOT_IP_LLC),
        (0x8847, SkipReason.NOT_IP_MPLS),
        (0x8848, SkipReason.NOT_IP_MPLS),
        (0x8863, SkipReason.NOT_IP_PPPOE),
        (0x8864, SkipReason.NOT_IP_PPPOE),
        (0x88E5, SkipReason.NOT_IP_OTHER_ETHERTYPE),  # MACsec
        (0x0600, SkipReason.NOT_IP_OTHER_ETHERTYPE),
    ],
)
def test_non_ip_frames_are_counted_by_family(ethertype: int, expected: SkipReason) -> None:
    assert decode_one(ether(b"\0" * 46, ethertype))["reason"] == expected
    assert decode_one(ether(b"\0" * 46, ethertype, (0x8100,)))["reason"] == expected


def test_other_loopback_family() -> None:
    assert decode_one(null(V4, 7), lt.LINKTYPE_NULL)["reason"] == SkipReason.NOT_IP_OTHER_FAMILY
    assert decode_one(null(V4, 0), lt.LINKTYPE_NULL)["reason"] == SkipReason.NOT_IP_OTHER_FAMILY


@pytest.mark.parametrize(
    ("packet", "linktype"),
    [
        (ether(V4)[:13], lt.LINKTYPE_ETHERNET),
        (ether(V4, 0x0800, (0x8100,))[:17], lt.LINKTYPE_ETHERNET),  # VLAN tag cut
        (ether(V4, 0x0800, (0x88A8, 0x8100))[:19], lt.LINKTYPE_ETHERNET),
        (sll(V4)[:15], lt.LINKTYPE_LINUX_SLL),
        (sll2(V4)[:19], lt.LINKTYPE_LINUX_SLL2),
        (null(V4, 2)[:3], lt.LINKTYPE_NULL),
        (null(V4, 2, ">")[:3], lt.LINKTYPE_LOOP),
        (b"", lt.LINKTYPE_ETHERNET),
    ],
)
def test_link_header_truncated(packet: bytes, linktype: int) -> None:
    assert decode_one(packet, linktype)["reason"] == SkipReason.LINK_TRUNCATED


def test_link_header_alone_means_ip_header_truncated() -> None:
    assert decode_one(ether(b""))["reason"] == SkipReason.IP_TRUNCATED
    assert decode_one(b"", lt.LINKTYPE_RAW)["reason"] == SkipReason.IP_TRUNCATED


@pytest.mark.parametrize("linktype", [9, 105, 147, 8224])
def test_unsupported_linktype_is_a_reason_not_a_crash(linktype: int) -> None:
    assert decode_one(ether(V4), linktype)["reason"] == SkipReason.UNSUPPORTED_LINKTYPE
