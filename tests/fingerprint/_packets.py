"""Helpers: tag hand-built packets and read the labels back."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import numpy as np

from decode.builders import make_batch
from teiten.capture.linktypes import LINKTYPE_ETHERNET, LINKTYPE_RAW
from teiten.decode import DecodedPackets, decode_batch
from teiten.fingerprint import TagContext, tag_labels, tag_packets


def decoded(packets: Sequence[bytes], linktype: int = LINKTYPE_ETHERNET) -> DecodedPackets:
    d = decode_batch(make_batch(list(packets), linktype))
    assert (d.reason == 0).all(), d.skip_counts()
    return d


def labels(packet: bytes, context: TagContext | None = None, *, raw: bool = False) -> set[str]:
    """The tags of one packet (an Ethernet frame, or a raw IP packet with ``raw=True``)."""
    d = decoded([packet], LINKTYPE_RAW if raw else LINKTYPE_ETHERNET)
    return set(tag_labels(int(tag_packets(d, context)[0])))


def ipv4_int(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def hexdump(text: str) -> bytes:
    """Bytes from a tcpdump ``-X`` hex column (``4500 0028 …``)."""
    return bytes.fromhex("".join(text.split()))


def as_bool(values: Sequence[bool]) -> np.ndarray:
    return np.array(values, bool)
