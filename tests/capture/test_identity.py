"""Content keys: the same packets in any container give one key; other packets another."""

from __future__ import annotations

import gzip

import pytest

from teiten.capture import open_capture
from teiten.capture.identity import CONTENT_PREFIX, ContentDigest, content_key

from . import _captures as build

T0 = 1_700_000_000
FRAMES = [build.packet(i, 40 + 3 * i) for i in range(7)]  # odd lengths: pcapng pads them


def _pcap(tmp_path, name="x.pcap", *, big=False, nsec=False, network=1, frames=FRAMES):
    frac = 1000 if nsec else 1
    records = [(T0 + i, 250_000 * frac, f) for i, f in enumerate(frames)]
    path = tmp_path / name
    path.write_bytes(build.pcap(records, big=big, nsec=nsec, network=network))
    return path


def _pcapng(tmp_path, name="x.pcapng", *, big=False, tsresol=6):
    scale = 10 ** (tsresol - 6)
    blocks = [build.shb(big=big), build.idb(1, big=big, tsresol=tsresol)]
    blocks += [
        build.epb(0, ((T0 + i) * 10**6 + 250_000) * scale, f, big=big) for i, f in enumerate(FRAMES)
    ]
    path = tmp_path / name
    path.write_bytes(b"".join(blocks))
    return path


def test_one_key_for_every_container(tmp_path) -> None:
    plain = _pcap(tmp_path)
    gz = tmp_path / "x.pcap.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    copies = [
        plain,
        gz,
        _pcap(tmp_path, "big.pcap", big=True),
        _pcap(tmp_path, "ns.pcap", nsec=True),
        _pcapng(tmp_path),
        _pcapng(tmp_path, "big.pcapng", big=True),
        _pcapng(tmp_path, "ns.pcapng", tsresol=9),
    ]
    keys = {content_key(p).key for p in copies}
    assert len(keys) == 1 and keys.pop().startswith(CONTENT_PREFIX)


@pytest.mark.parametrize("chunk_bytes", [64, 200, 1 << 20])
def test_batch_boundaries_do_not_matter(tmp_path, chunk_bytes: int) -> None:
    path = _pcap(tmp_path)
    digest = ContentDigest()
    with open_capture(path, chunk_bytes=chunk_bytes) as reader:
        for batch in reader:
            digest.update(batch)
    assert digest.packets == len(FRAMES)
    assert digest.key() == content_key(_pcapng(tmp_path)).key


def test_other_packets_order_or_link_type_give_other_keys(tmp_path) -> None:
    key = content_key(_pcap(tmp_path)).key
    others = [
        _pcap(tmp_path, "raw.pcap", network=101),  # the same bytes as raw IP frames
        _pcap(tmp_path, "swapped.pcap", frames=[FRAMES[1], FRAMES[0], *FRAMES[2:]]),
        _pcap(tmp_path, "fewer.pcap", frames=FRAMES[:-1]),
    ]
    assert key not in {content_key(p).key for p in others}


def _frames(batch) -> list[bytes]:
    return [bytes(batch.data[o : o + c]) for o, c in zip(batch.offset, batch.caplen, strict=True)]


def test_hashing_in_place_leaves_the_frames_as_they_were(tmp_path) -> None:
    with open_capture(_pcap(tmp_path)) as reader:
        for batch in reader:
            before = _frames(batch)
            ContentDigest().update(batch)
            assert before == _frames(batch) == FRAMES[: len(before)]


def test_damage_mid_way_keys_the_packets_before_it(tmp_path) -> None:
    data = bytearray(_pcap(tmp_path).read_bytes())
    cut = _pcap(tmp_path, "first3.pcap", frames=FRAMES[:3])
    pos = len(cut.read_bytes())  # the fourth record's header: claim 2^31 captured bytes
    data[pos + 8 : pos + 12] = (1 << 31).to_bytes(4, "little")
    damaged = tmp_path / "damaged.pcap"
    damaged.write_bytes(bytes(data))
    read = content_key(damaged)
    assert read.key == content_key(cut).key
    assert read.error and "the 3 packets before it" in read.error
