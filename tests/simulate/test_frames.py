"""Internet checksums in bulk agree with a plain RFC 1071 implementation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from teiten.simulate.frames import _fold, ones_sum


def rfc1071(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=40, max_size=40), min_size=1, max_size=20))
def test_bulk_checksum_equals_rfc1071(rows):
    array = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), 40)
    native = _fold(ones_sum(array, 0, 40))
    got = [int.from_bytes(int(v).to_bytes(2, "little"), "big") for v in native]
    assert got == [rfc1071(r) for r in rows]
