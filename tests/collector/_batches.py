"""Wire batches for the collector tests, built from real captures."""

from __future__ import annotations

import ipaddress
from dataclasses import fields, replace

import numpy as np

from conftest import capture_path
from teiten.capture import open_capture
from teiten.decode import DecodedPackets, decode_batch
from teiten.transport.wire import WIRE_CONTENT_TYPE, body_digest, encode_body

V4_PREFIX = "192.0.2.0/24"
V6_PREFIX = "2001:db8:7e1::/48"
PREFIXES = [V4_PREFIX, V6_PREFIX]


def capture_packets(name: str) -> DecodedPackets:
    """The decoded packets (reason 0) of a real capture in tests/data/captures."""
    parts = []
    with open_capture(capture_path(name)) as reader:
        for batch in reader:
            decoded = decode_batch(batch)
            parts.append(decoded.select(decoded.decoded))
    return concat(parts)


def concat(parts: list[DecodedPackets]) -> DecodedPackets:
    return DecodedPackets(
        **{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(parts[0])}
    )


def into_prefixes(decoded: DecodedPackets, v4: str = V4_PREFIX, v6: str = V6_PREFIX):
    """A copy whose destinations lie in ``v4`` (IPv4 packets) and ``v6`` (IPv6 packets).

    The network bits are replaced, the host bits of each original destination kept.
    """
    dst = decoded.dst.copy()
    for text, is_v6 in ((v4, False), (v6, True)):
        net = ipaddress.ip_network(text)
        if is_v6:
            value, length = int(net.network_address), net.prefixlen
        else:
            value = int(ipaddress.IPv6Address(f"::ffff:{net.network_address}"))
            length = 96 + net.prefixlen
        rows = decoded.ip_version == (6 if is_v6 else 4)
        whole, bits = divmod(length, 8)
        net_bytes = np.frombuffer(value.to_bytes(16, "big"), np.uint8)
        dst[rows, :whole] = net_bytes[:whole]
        if bits:
            keep = np.uint8(0xFF >> bits)
            dst[rows, whole] = (dst[rows, whole] & keep) | net_bytes[whole]
    return replace(decoded, dst=dst)


def shifted(decoded: DecodedPackets, ns: int) -> DecodedPackets:
    """A copy with every timestamp moved by ``ns`` (distinct batches from the same packets)."""
    return replace(decoded, ts_ns=decoded.ts_ns + np.int64(ns))


def wire(decoded: DecodedPackets) -> tuple[bytes, str]:
    """The body and batch id of ``decoded``."""
    body = encode_body(decoded)
    return body, body_digest(body)


def headers(
    sensor: str, token: str, digest: str, seq: int = 1, drops: int | None = None
) -> dict[str, str]:
    h = {
        "Authorization": f"Bearer {token}",
        "X-Teiten-Sensor": sensor,
        "X-Teiten-Batch-Digest": digest,
        "X-Teiten-Batch-Seq": str(seq),
        "Content-Type": WIRE_CONTENT_TYPE,
    }
    if drops is not None:
        h["X-Teiten-Drops"] = str(drops)
    return h
