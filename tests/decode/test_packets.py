"""DecodedPackets: shape of the columns, row selection, skip counts, batch checks."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from teiten.capture.batch import PacketBatch
from teiten.decode import COLUMNS, DecodedPackets, SkipReason, decode_batch

from .builders import ether, ipv4, ipv6, make_batch, tcp, udp

PACKETS = [
    ether(ipv4(tcp(1, 2))),
    ether(b"\0" * 28, 0x0806),
    ether(ipv6(udp(3, 4), nxt=17), 0x86DD),
    ether(b"\0" * 28, 0x0806),
    b"\0" * 6,
]


@pytest.fixture
def decoded() -> DecodedPackets:
    return decode_batch(make_batch(PACKETS))


def test_columns_have_the_documented_types(decoded: DecodedPackets) -> None:
    names = [f.name for f in dataclasses.fields(DecodedPackets)]
    assert set(names) == {*COLUMNS, "ts_ns", "wirelen"}
    for name, (dtype, shape) in COLUMNS.items():
        column = getattr(decoded, name)
        assert column.dtype == dtype and column.shape == (len(PACKETS), *shape), name
    assert decoded.ts_ns.dtype == np.int64 and decoded.wirelen.dtype == np.uint32
    assert len(decoded) == len(PACKETS)


def test_select_keeps_every_field(decoded: DecodedPackets) -> None:
    kept = decoded.select(decoded.decoded)
    assert len(kept) == 2
    assert list(kept.sport) == [1, 3] and list(kept.ip_version) == [4, 6]
    assert list(kept.ts_ns) == [decoded.ts_ns[0], decoded.ts_ns[2]]
    assert kept.src.shape == (2, 16)
    assert list(decoded.select(np.array([4, 0])).reason) == [SkipReason.LINK_TRUNCATED, 0]


def test_skip_counts(decoded: DecodedPackets) -> None:
    assert decoded.skip_counts() == {"not IP: ARP": 2, "link header truncated": 1}
    assert decoded.select(decoded.decoded).skip_counts() == {}


def test_empty_batch() -> None:
    decoded = decode_batch(make_batch([]))
    assert len(decoded) == 0 and decoded.src.shape == (0, 16)
    assert decoded.skip_counts() == {}


def test_batch_pointing_outside_its_buffer_is_a_reader_bug() -> None:
    batch = make_batch(PACKETS[:2])
    caplen = batch.caplen.copy()
    caplen[1] += 100
    broken = dataclasses.replace(batch, caplen=caplen, first_number=41)
    with pytest.raises(ValueError, match="packet 42"):
        decode_batch(broken)
    broken = dataclasses.replace(batch, offset=batch.offset - 1)
    with pytest.raises(ValueError, match="packet 1:"):
        decode_batch(broken)


def test_input_dtypes_are_normalised() -> None:
    batch = make_batch(PACKETS)
    loose = PacketBatch(
        data=batch.data,
        offset=batch.offset.astype(np.int32),
        caplen=batch.caplen.astype(np.int64),
        wirelen=batch.wirelen.astype(np.int64),
        ts_ns=batch.ts_ns,
        linktype=batch.linktype.astype(np.int64),
        first_number=1,
    )
    assert (decode_batch(loose).reason == decode_batch(batch).reason).all()
