"""IP and transport headers: fields, extension headers, fragments, TCP options, skips."""

from __future__ import annotations

import struct

import pytest

from teiten.capture import linktypes as lt
from teiten.decode import SkipReason

from .builders import (
    ACK,
    SYN,
    ah6,
    decode_one,
    ether,
    ext6,
    frag6,
    icmp,
    ipv4,
    ipv6,
    mss,
    tcp,
    udp,
)

E6 = 0x86DD


def test_ipv4_tcp_fields() -> None:
    packet = ether(
        ipv4(
            tcp(40000, 445, SYN | ACK, seq=0xDEADBEEF, ack=0x01020304, window=29200),
            ttl=243,
            ident=54321,
            flags=0b110,  # evil bit + DF
        )
    )
    r = decode_one(packet)
    assert r["src"] == "198.51.100.7" and r["dst"] == "203.0.113.9"
    assert (r["ttl"], r["ip_id"], r["ip_flags"], r["ip_len"]) == (243, 54321, 6, 40)
    assert (r["has_tcp"], r["tcp_flags"], r["tcp_seq"], r["tcp_ack"]) == (
        True,
        SYN | ACK,
        0xDEADBEEF,
        0x01020304,
    )
    assert (r["tcp_window"], r["tcp_opt_len"], r["tcp_opt_mask"], r["has_mss"]) == (
        29200,
        0,
        0,
        False,
    )
    assert (r["is_fragment"], r["frag_offset"], r["has_icmp"]) == (False, 0, False)


def test_ipv4_mapped_address_layout() -> None:
    from teiten.decode import decode_batch

    from .builders import make_batch

    decoded = decode_batch(make_batch([ether(ipv4(udp(), proto=17))]))
    assert bytes(decoded.src[0]) == bytes(10) + b"\xff\xff" + bytes([198, 51, 100, 7])


def test_ipv4_options_are_skipped_over() -> None:
    options = b"\x94\x04\x00\x00"  # router alert
    r = decode_one(ether(ipv4(tcp(1, 2), options=options)))
    assert (r["reason"], r["sport"], r["dport"], r["ip_len"]) == (0, 1, 2, 44)


def test_ethernet_padding_is_not_transport_data() -> None:
    # 20-byte IPv4 header + 4 bytes announced; the rest of the frame is padding.
    packet = ether(ipv4(b"\x00\x35\x00\x35", proto=17, total=24) + b"\xff" * 22)
    r = decode_one(packet)
    assert (r["reason"], r["proto"], r["has_ports"], r["sport"]) == (0, 17, False, 0)
    padded = ether(ipv4(udp(53, 4444), proto=17) + b"\0" * 18)
    assert decode_one(padded)["sport"] == 53


def test_snapped_packet_is_decoded() -> None:
    # total length says 1500, but only the headers were captured
    r = decode_one(ether(ipv4(udp(53, 9999), proto=17, total=1500)))
    assert (r["reason"], r["ip_len"], r["sport"], r["dport"]) == (0, 1500, 53, 9999)


def test_zero_total_length_is_accepted() -> None:
    r = decode_one(ether(ipv4(tcp(5, 6), total=0)))
    assert (r["reason"], r["ip_len"], r["sport"]) == (0, 0, 5)


def test_ipv4_first_fragment_has_ports() -> None:
    r = decode_one(ether(ipv4(udp(500, 500, b"x" * 32), proto=17, flags=1, ident=7)))
    assert (r["is_fragment"], r["ip_flags"], r["frag_offset"], r["ip_id"]) == (True, 1, 0, 7)
    assert (r["has_ports"], r["sport"], r["dport"]) == (True, 500, 500)


@pytest.mark.parametrize("more", [0, 1])
def test_ipv4_non_first_fragment_has_no_ports(more: int) -> None:
    r = decode_one(ether(ipv4(udp(500, 500), proto=17, flags=more, frag=185)))
    assert (r["reason"], r["is_fragment"], r["frag_offset"], r["ip_flags"]) == (0, True, 185, more)
    assert (r["proto"], r["has_ports"], r["sport"], r["dport"]) == (17, False, 0, 0)


@pytest.mark.parametrize(
    ("payload", "proto"), [(b"", 132), (b"", 33), (b"", 136), (tcp()[:19], 6), (b"\x08", 1)]
)
def test_complete_packet_too_short_for_its_transport_header(payload: bytes, proto: int) -> None:
    # nmap -sO sends empty SCTP/DCCP/UDP-Lite probes: the sender, not the capture, cut them.
    r = decode_one(ether(ipv4(payload, proto=proto)))
    assert (r["reason"], r["proto"], r["has_ports"], r["has_tcp"], r["has_icmp"]) == (
        0,
        proto,
        False,
        False,
        False,
    )
    assert r["kind"] == 0


def test_tiny_first_fragment_keeps_ip_fields() -> None:
    r = decode_one(ether(ipv4(tcp()[:8], flags=1)))
    assert (r["reason"], r["proto"], r["is_fragment"], r["has_ports"]) == (0, 6, True, False)


@pytest.mark.parametrize(
    ("transport", "nxt"),
    [(tcp(1111, 2222, SYN), 6), (udp(3333, 4444), 17), (icmp(128), 58)],
)
def test_ipv6_extension_headers_are_walked(transport: bytes, nxt: int) -> None:
    chain = ext6(43, b"\0" * 14) + ext6(44) + frag6(60, ident=0xCAFEF00D) + ext6(nxt)
    r = decode_one(ether(ipv6(chain + transport, nxt=0), E6))
    assert (r["reason"], r["ip_version"], r["proto"]) == (0, 6, nxt)
    assert (r["is_fragment"], r["ip_id"], r["frag_offset"], r["ip_flags"]) == (
        True,
        0xCAFEF00D,
        0,
        0,
    )
    if nxt == 58:
        assert (r["has_icmp"], r["icmp_type"], r["has_ports"]) == (True, 128, False)
    else:
        assert r["has_ports"] and r["sport"] in (1111, 3333)


def test_ipv6_fields() -> None:
    r = decode_one(ether(ipv6(udp(), nxt=17, hlim=57), E6))
    assert (r["ttl"], r["ip_len"], r["ip_id"], r["ip_flags"], r["is_fragment"]) == (
        57,
        48,
        0,
        0,
        False,
    )


def test_ipv6_non_first_fragment_has_no_ports() -> None:
    r = decode_one(ether(ipv6(frag6(6, offset=100, more=True) + tcp(), nxt=44), E6))
    assert (r["reason"], r["proto"], r["frag_offset"], r["ip_flags"]) == (0, 6, 100, 1)
    assert (r["has_ports"], r["has_tcp"], r["is_fragment"]) == (False, False, True)


def test_ipv6_authentication_header_is_walked() -> None:
    r = decode_one(ether(ipv6(ah6(6) + tcp(7, 8), nxt=51), E6))
    r_no_ah = decode_one(ether(ipv6(tcp(7, 8)), E6))
    assert r["proto"] == r_no_ah["proto"] == 6
    assert r["sport"] == 7


def test_ipv6_length_saturates_at_uint16() -> None:
    r = decode_one(ether(ipv6(udp(), nxt=17, plen=65530), E6))
    assert (r["reason"], r["ip_len"]) == (0, 65535)


def test_other_protocols_are_decoded_without_ports() -> None:
    r = decode_one(ether(ipv4(b"\0" * 4, proto=47)))  # GRE
    assert (r["reason"], r["proto"], r["has_ports"], r["has_icmp"]) == (0, 47, False, False)
    r = decode_one(ether(ipv6(b"", nxt=59), E6))  # no next header
    assert (r["reason"], r["proto"]) == (0, 59)


@pytest.mark.parametrize("proto", [132, 33, 136])  # SCTP, DCCP, UDP-Lite
def test_other_port_protocols(proto: int) -> None:
    header = struct.pack("!HHII", 2905, 80, 0, 0)
    r = decode_one(ether(ipv4(header, proto=proto)))
    assert (r["reason"], r["has_ports"], r["sport"], r["dport"]) == (0, True, 2905, 80)


def test_icmp_fields() -> None:
    r = decode_one(ether(ipv4(icmp(3, 3) + ipv4(udp(), proto=17), proto=1)))
    assert (r["has_icmp"], r["icmp_type"], r["icmp_code"], r["has_ports"]) == (True, 3, 3, False)


# ---- TCP options ----------------------------------------------------------------------


def test_typical_syn_options() -> None:
    # MSS, SACK permitted, timestamps, NOP, window scale (Linux SYN)
    options = mss(1460) + b"\x04\x02" + b"\x08\x0a" + bytes(8) + b"\x01\x03\x03\x07"
    r = decode_one(ether(ipv4(tcp(options=options))))
    assert (r["has_mss"], r["tcp_mss"], r["tcp_opt_len"]) == (True, 1460, 20)
    assert r["tcp_opt_mask"] == (1 << 2) | (1 << 4) | (1 << 8) | (1 << 1) | (1 << 3)


def test_no_mss() -> None:
    r = decode_one(ether(ipv4(tcp(options=b"\x01\x01\x04\x02"))))
    assert (r["has_mss"], r["tcp_mss"], r["tcp_opt_mask"], r["tcp_opt_len"]) == (
        False,
        0,
        0b10010,
        4,
    )


def test_end_of_options_stops_the_walk() -> None:
    r = decode_one(ether(ipv4(tcp(options=b"\x00\x00\x00\x00" + mss(1400)))))
    assert (r["tcp_opt_mask"], r["has_mss"]) == (1, False)


@pytest.mark.parametrize(
    "options",
    [b"\x02\x00\x05\xb4", b"\x02\x01\x05\xb4", b"\x03\x09\x00\x00", b"\x02\xff\x05\xb4"],
)
def test_malformed_options_are_walked_safely(options: bytes) -> None:
    r = decode_one(ether(ipv4(tcp(options=options))))
    assert (r["reason"], r["tcp_opt_mask"], r["has_mss"]) == (0, 0, False)


def test_mss_with_wrong_length_is_not_mss() -> None:
    r = decode_one(ether(ipv4(tcp(options=b"\x02\x06\x05\xb4\0\0\x01\x01"))))
    assert (r["tcp_opt_mask"], r["has_mss"]) == (0b110, False)


def test_options_cut_by_snap_length() -> None:
    packet = ether(ipv4(tcp(options=mss(1460) + b"\x04\x02" + b"\x08\x0a" + bytes(8))))
    r = decode_one(packet[: 14 + 20 + 20 + 6])  # MSS and SACK-permitted only
    assert (r["reason"], r["tcp_opt_len"], r["tcp_opt_mask"], r["tcp_mss"]) == (
        0,
        16,
        0b10100,
        1460,
    )


def test_data_offset_below_five_means_no_options() -> None:
    r = decode_one(ether(ipv4(tcp(offset=3) + b"\x02\x04\x05\xb4")))
    assert (r["reason"], r["tcp_opt_len"], r["tcp_opt_mask"]) == (0, 0, 0)


# ---- skip reasons ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("packet", "expected"),
    [
        (ether(ipv4(tcp(), version=5)), SkipReason.BAD_IP_VERSION),
        (ether(ipv6(tcp())), SkipReason.BAD_IP_VERSION),  # ethertype says IPv4
        (ether(ipv4(tcp()), E6), SkipReason.BAD_IP_VERSION),
        (ether(ipv4(tcp())[:19]), SkipReason.IP_TRUNCATED),
        (ether(ipv4(tcp(), options=bytes(8))[:24]), SkipReason.IP_TRUNCATED),
        (ether(ipv6(tcp())[:39], E6), SkipReason.IP_TRUNCATED),
        (ether(ipv4(tcp(), ihl=4)), SkipReason.BAD_IPV4_HEADER_LENGTH),
        (ether(ipv4(tcp(), total=19)), SkipReason.BAD_IPV4_TOTAL_LENGTH),
        (ether(ipv6(ext6(6), nxt=0)[:45], E6), SkipReason.IPV6_EXT_TRUNCATED),
        (ether(ipv6(ext6(6, bytes(14)), nxt=60)[:50], E6), SkipReason.IPV6_EXT_TRUNCATED),
        (ether(ipv6(frag6(6)[:7], nxt=44), E6), SkipReason.IPV6_EXT_TRUNCATED),
        (ether(ipv6(ah6(6)[:20], nxt=51), E6), SkipReason.IPV6_EXT_TRUNCATED),
        (ether(ipv4(tcp()))[: 14 + 20 + 19], SkipReason.TRANSPORT_TRUNCATED),
        (ether(ipv4(udp(), proto=17))[: 14 + 20 + 7], SkipReason.TRANSPORT_TRUNCATED),
        (ether(ipv4(icmp(8), proto=1))[: 14 + 20 + 3], SkipReason.TRANSPORT_TRUNCATED),
        (ether(ipv6(icmp(128), nxt=58), E6)[: 14 + 40 + 3], SkipReason.TRANSPORT_TRUNCATED),
        (ether(ipv4(bytes(12), proto=132))[: 14 + 20 + 11], SkipReason.TRANSPORT_TRUNCATED),
        (ether(ipv4(tcp(), total=0))[: 14 + 20 + 10], SkipReason.TRANSPORT_TRUNCATED),
        (ether(ipv4(tcp(), total=1500))[: 14 + 20 + 10], SkipReason.TRANSPORT_TRUNCATED),
        (ipv4(tcp())[:0], SkipReason.IP_TRUNCATED),
    ],
)
def test_skip_reasons(packet: bytes, expected: SkipReason) -> None:
    linktype = lt.LINKTYPE_RAW if not packet else lt.LINKTYPE_ETHERNET
    r = decode_one(packet, linktype)
    assert r["reason"] == expected
    assert (r["ip_version"], r["proto"], r["src"]) == (0, 0, "::")  # nothing half-written


def test_skipped_packet_keeps_time_and_length() -> None:
    from teiten.decode import decode_batch

    from .builders import make_batch

    batch = make_batch([b"\0" * 5, ether(ipv4(udp(), proto=17))])
    decoded = decode_batch(batch)
    assert list(decoded.reason) == [SkipReason.LINK_TRUNCATED, 0]
    assert list(decoded.ts_ns) == list(batch.ts_ns)
    assert list(decoded.wirelen) == list(batch.wirelen)
