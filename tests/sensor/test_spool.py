"""The spool: atomic numbered batches, recovery after a crash, the size bound."""

import random

import pytest

from teiten.sensor.spool import Spool
from teiten.sensor.uploader import Backoff
from teiten.transport import body_digest


def _bodies(n, size=1000, seed=0):
    rng = random.Random(seed)
    return [rng.randbytes(size) for _ in range(n)]


def test_batches_are_numbered_checksummed_and_ordered(tmp_path):
    spool = Spool(tmp_path, max_bytes=1 << 20)
    bodies = _bodies(5)
    entries = [spool.put(b) for b in bodies]
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.digest for e in spool.entries()] == [body_digest(b) for b in bodies]
    spool.done(entries[0])
    assert [e.seq for e in spool.entries()] == [2, 3, 4, 5]
    assert spool.bytes == 4000


def test_numbers_continue_after_a_restart_and_never_repeat(tmp_path):
    spool = Spool(tmp_path, max_bytes=1 << 20)
    for body in _bodies(3):
        spool.done(spool.put(body))  # all acknowledged: the spool is empty
    again = Spool(tmp_path, max_bytes=1 << 20)
    assert again.put(b"x" * 10).seq == 4


def test_a_crash_mid_write_leaves_no_partial_batch(tmp_path):
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.put(b"whole")
    (tmp_path / "tmp" / "000000000002.half.batch").write_bytes(b"half a ba")
    again = Spool(tmp_path, max_bytes=1 << 20)
    assert [e.seq for e in again.entries()] == [1]
    assert not any((tmp_path / "tmp").iterdir())


def test_a_damaged_batch_is_quarantined_with_its_reason(tmp_path):
    spool = Spool(tmp_path, max_bytes=1 << 20)
    first, second = spool.put(b"a" * 100), spool.put(b"b" * 100)
    first.path.write_bytes(b"c" * 100)
    again = Spool(tmp_path, max_bytes=1 << 20)
    assert [e.seq for e in again.entries()] == [second.seq]
    reason = (tmp_path / "rejected" / (first.path.name + ".reason")).read_text()
    assert "checksum mismatch" in reason and again.rejected == 1
    assert again.put(b"d").seq == 3


def test_drop_oldest_makes_room_and_counts(tmp_path):
    spool = Spool(tmp_path, max_bytes=3500, policy="drop-oldest")
    for body in _bodies(5):
        spool.put(body, packets=10)
    assert [e.seq for e in spool.entries()] == [3, 4, 5]
    assert spool.dropped_batches == 2


def test_drop_newest_refuses_and_counts(tmp_path):
    spool = Spool(tmp_path, max_bytes=3500, policy="drop-newest")
    results = [spool.put(body, packets=10) for body in _bodies(5)]
    assert [r is None for r in results] == [False, False, False, True, True]
    assert [e.seq for e in spool.entries()] == [1, 2, 3]
    assert (spool.dropped_batches, spool.dropped_packets) == (2, 20)


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="policy"):
        Spool(tmp_path, max_bytes=10, policy="drop-random")
    with pytest.raises(ValueError, match="positive"):
        Spool(tmp_path, max_bytes=0)
    with pytest.raises(ValueError, match="never fit"):
        Spool(tmp_path, max_bytes=10).put(b"x" * 11)


def test_backoff_grows_to_its_cap_with_jitter():
    backoff = Backoff(base=0.5, cap=8.0, rng=random.Random(1))
    ceilings = []
    for _ in range(8):
        ceilings.append(backoff.ceiling())
        assert 0 <= backoff.next_wait() <= ceilings[-1]
    assert ceilings == [0.5, 1, 2, 4, 8, 8, 8, 8]
    backoff.reset()
    assert backoff.ceiling() == 0.5
