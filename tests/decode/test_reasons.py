"""Skip reasons: stable codes, readable names, every one documented."""

from __future__ import annotations

import teiten.decode.reasons as reasons
from teiten.capture import linktypes as lt
from teiten.capture.scan import BAD_TS
from teiten.decode import DECODED, SKIP_REASONS, SkipReason, decode_batch

from .builders import ether, ipv4, ipv6, make_batch, null, tcp

V4 = ipv4(tcp())


def test_every_code_has_a_readable_reason() -> None:
    assert set(SKIP_REASONS) == {int(code) for code in SkipReason}
    assert DECODED == 0 and DECODED not in SKIP_REASONS
    assert all(type(code) is int for code in SKIP_REASONS)
    assert len(set(SKIP_REASONS.values())) == len(SKIP_REASONS)


def test_codes_are_stable() -> None:
    # Stored and compared across runs: renumbering needs a migration, not an edit.
    assert SKIP_REASONS[1] == "link header truncated"
    assert SKIP_REASONS[3] == "not IP: ARP"
    assert SKIP_REASONS[10] == "bad IP version"
    assert SKIP_REASONS[15] == "transport header truncated"
    assert max(SKIP_REASONS) < 256  # stored as uint8


def test_every_reason_is_documented() -> None:
    doc = reasons.__doc__ or ""
    for code, text in SKIP_REASONS.items():
        assert f"{code:2d}  {text}" in doc, f"reason {code} ({text}) missing from the docstring"


def test_every_reason_has_a_packet_that_triggers_it() -> None:
    examples = {
        SkipReason.LINK_TRUNCATED: (b"\x02\0\0\0\0\x01", lt.LINKTYPE_ETHERNET),
        SkipReason.UNSUPPORTED_LINKTYPE: (ether(V4), 105),
        SkipReason.NOT_IP_ARP: (ether(bytes(28), 0x0806), lt.LINKTYPE_ETHERNET),
        SkipReason.NOT_IP_LLDP: (ether(bytes(46), 0x88CC), lt.LINKTYPE_ETHERNET),
        SkipReason.NOT_IP_LLC: (ether(bytes(46), 46), lt.LINKTYPE_ETHERNET),
        SkipReason.NOT_IP_MPLS: (ether(bytes(46), 0x8847), lt.LINKTYPE_ETHERNET),
        SkipReason.NOT_IP_PPPOE: (ether(bytes(46), 0x8864), lt.LINKTYPE_ETHERNET),
        SkipReason.NOT_IP_OTHER_ETHERTYPE: (ether(bytes(46), 0x88E5), lt.LINKTYPE_ETHERNET),
        SkipReason.NOT_IP_OTHER_FAMILY: (null(V4, 17), lt.LINKTYPE_NULL),
        SkipReason.BAD_IP_VERSION: (b"\x55" + V4[1:], lt.LINKTYPE_RAW),
        SkipReason.IP_TRUNCATED: (V4[:12], lt.LINKTYPE_RAW),
        SkipReason.BAD_IPV4_HEADER_LENGTH: (b"\x44" + V4[1:], lt.LINKTYPE_RAW),
        SkipReason.BAD_IPV4_TOTAL_LENGTH: (ipv4(tcp(), total=10), lt.LINKTYPE_RAW),
        SkipReason.IPV6_EXT_TRUNCATED: (ipv6(b"\x06\x01", nxt=0), lt.LINKTYPE_RAW),
        SkipReason.TRANSPORT_TRUNCATED: (V4[:30], lt.LINKTYPE_RAW),
        SkipReason.BAD_TIMESTAMP: (V4, lt.LINKTYPE_RAW),  # a good packet, at time BAD_TS
    }
    assert set(examples) == set(SkipReason)
    batch = make_batch([p for p, _ in examples.values()], [t for _, t in examples.values()])
    batch.ts_ns[-1] = BAD_TS
    decoded = decode_batch(batch)
    assert decoded.reason.tolist() == [int(code) for code in examples]
    assert decoded.skip_counts() == {SKIP_REASONS[code]: 1 for code in examples}
