"""The rate helper runs and measures what it says (not timed here)."""

from __future__ import annotations

import numpy as np

from teiten.decode import KIND_PROBE, decode_batch, measure_decode_rate
from teiten.decode.bench import synthetic_syn_batch


def test_synthetic_batch_is_syn_probes() -> None:
    decoded = decode_batch(synthetic_syn_batch(1000))
    assert (decoded.reason == 0).all()
    assert (decoded.kind == KIND_PROBE).all()
    assert (decoded.tcp_flags == 0x02).all() and (decoded.ttl == 243).all()
    assert len(np.unique(decoded.src, axis=0)) > 900


def test_measure_decode_rate_returns_packets_per_second() -> None:
    assert measure_decode_rate(1000, repeats=1) > 0
