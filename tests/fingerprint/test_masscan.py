"""masscan: IP ID = (dst ^ dport ^ seq) & 0xFFFF on a TCP SYN with window 1024."""

from __future__ import annotations

import numpy as np
import pytest

from decode.builders import ACK, DST4, SYN, ether, ipv4, ipv6, tcp, udp
from teiten.fingerprint.masscan import masscan_ip_id

from ._packets import hexdump, ipv4_int, labels

# Real masscan SYNs quoted (tcpdump -X) in masscan's issue tracker: a 1.3.0 SYN to
# 176.113.115.36:60030 (masscan#641) and one to 10.1.105.1:3 (masscan#326). Raw IPv4.
MASSCAN_1_3_0 = hexdump(
    "4500 0028 b9e8 0000 ff06 8781 b970 9d5f b071 7324 ee48 ea7e 12b9 20b2 0000 0000"
    "5002 0400 254a 0000"
)
MASSCAN_326 = hexdump(
    "4500 0028 1252 0000 ff06 c378 0a01 6902 0a01 6901 8235 0003 7760 7b50 0000 0000"
    "5002 0400 50f4 0000"
)
# The SYN-ACK's reply from 176.113.115.36 in the same issue: an ordinary stack.
TARGET_ACK = hexdump(
    "4500 0028 606e 4000 7b06 24fc b071 7324 b970 9d5f ea7e ee48 4b76 0b8b 6af6 51d0"
    "5010 ff70 496e 0000"
)


def _syn(ip_id: int, *, window: int = 1024, dport: int = 80, seq: int = 0x12B920B2) -> bytes:
    return ether(ipv4(tcp(dport=dport, flags=SYN, seq=seq, window=window), ident=ip_id, ttl=240))


def _expected(dport: int = 80, seq: int = 0x12B920B2) -> int:
    one = np.array([0], np.uint32)
    return int(masscan_ip_id(one + ipv4_int(DST4), one + dport, one + seq)[0])


@pytest.mark.parametrize("packet", [MASSCAN_1_3_0, MASSCAN_326])
def test_real_masscan_syns_match(packet):
    assert labels(packet, raw=True) == {"masscan"}


def test_the_relation_on_a_built_syn():
    assert "masscan" in labels(_syn(_expected()))
    assert "masscan" in labels(_syn(_expected(dport=445, seq=7), dport=445, seq=7))


@pytest.mark.parametrize(
    "packet",
    [
        _syn(_expected() ^ 1),  # one bit off
        _syn(_expected(), window=65535),  # not masscan's window
        ether(ipv4(tcp(flags=SYN | ACK, seq=0x12B920B2), ident=_expected())),
    ],
)
def test_other_packets_do_not(packet):
    assert "masscan" not in labels(packet)


def test_an_ordinary_stack_does_not():
    assert "masscan" not in labels(TARGET_ACK, raw=True)


def test_not_applicable_to_ipv6_or_udp():
    assert "masscan" not in labels(ether(ipv6(tcp(flags=SYN)), 0x86DD))
    assert "masscan" not in labels(ether(ipv4(udp(dport=80), proto=17, ident=_expected())))
