"""The public face of teiten.decode is pinned: changing it is a deliberate act."""

from __future__ import annotations

import teiten.decode


def test_public_api() -> None:
    assert set(teiten.decode.__all__) == {
        "COLUMNS",
        "DECODED",
        "KIND_BACKSCATTER",
        "KIND_NAMES",
        "KIND_OTHER",
        "KIND_PROBE",
        "SKIP_REASONS",
        "DecodedPackets",
        "SkipReason",
        "decode_batch",
        "measure_decode_rate",
    }
    for name in teiten.decode.__all__:
        assert getattr(teiten.decode, name) is not None
