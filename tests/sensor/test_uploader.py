"""The uploader against a real collector process: exactly once, whatever happens to it."""

import random
import threading
import time

import numpy as np
import pyarrow.dataset as ds
import pytest

from collector._batches import PREFIXES, capture_packets, into_prefixes, shifted
from collector._server import CollectorServer
from teiten.sensor.spool import Spool
from teiten.sensor.uploader import Backoff, Uploader
from teiten.transport import encode_body


@pytest.fixture(scope="module")
def packets():
    return into_prefixes(capture_packets("ppa3e_synscan.pcapng"))


def _batches(packets, n, rows=50):
    """``n`` distinct wire batches of ``rows`` packets each (timestamps shifted apart)."""
    out = []
    for i in range(n):
        part = packets.select(np.arange(i * 7 % 1000, i * 7 % 1000 + rows))
        out.append(shifted(part, (i + 1) * 10**12))
    return out


def _stored_ts(store):
    files = sorted(store.glob("packets/*/*.parquet"))
    if not files:
        return []
    table = ds.dataset(files).to_table(columns=["ts", "ts_ns"])
    micros, rest = table.column("ts").cast("int64").to_numpy(), table.column("ts_ns").to_numpy()
    return sorted((micros * 1000 + rest).tolist())


def _uploader(spool, server, token, name="tokyo-1"):
    return Uploader(spool, server.url, name, token, timeout=5, backoff=Backoff(base=0.05, cap=0.5))


def test_every_batch_arrives_once_and_leaves_the_spool(tmp_path, packets):
    server = CollectorServer(tmp_path)
    token = server.register("tokyo-1", PREFIXES)
    server.start()
    try:
        spool = Spool(tmp_path / "spool", max_bytes=1 << 30)
        batches = _batches(packets, 20)
        for b in batches:
            spool.put(encode_body(b), len(b))
        uploader = _uploader(spool, server, token)
        uploader.drain()
        assert spool.entries() == [] and uploader.stats.sent == 20
        sent = sorted(int(t) for b in batches for t in b.ts_ns)
        assert _stored_ts(server.store) == sent
    finally:
        server.stop()


def test_refused_batches_go_to_rejected_with_the_reason(tmp_path, packets):
    server = CollectorServer(tmp_path)
    token = server.register("tokyo-1", ["198.51.100.0/24"])  # not where the packets go
    server.start()
    try:
        spool = Spool(tmp_path / "spool", max_bytes=1 << 30)
        entry = spool.put(encode_body(_batches(packets, 1)[0]))
        uploader = _uploader(spool, server, token)
        uploader.drain()
        assert spool.entries() == [] and uploader.stats.rejected == 1
        reason = (tmp_path / "spool" / "rejected" / (entry.path.name + ".reason")).read_text()
        assert "422" in reason
        assert _stored_ts(server.store) == []
    finally:
        server.stop()


def test_a_wrong_token_is_retried_not_dropped(tmp_path, packets, caplog):
    server = CollectorServer(tmp_path)
    server.register("tokyo-1", PREFIXES)
    server.start()
    try:
        spool = Spool(tmp_path / "spool", max_bytes=1 << 30)
        spool.put(encode_body(_batches(packets, 1)[0]))
        uploader = _uploader(spool, server, "not-the-token")
        stop = threading.Event()
        threading.Timer(1.0, stop.set).start()
        uploader.drain(stop)
        assert len(spool.entries()) == 1 and uploader.stats.retries >= 2
        assert "not-the-token" not in caplog.text and "401" in caplog.text
    finally:
        server.stop()


def test_collector_killed_again_and_again_loses_and_doubles_nothing(tmp_path, packets):
    """Three sensors upload 300 batches while the collector is kill -9'd at random moments
    and restarted; the store ends with every packet exactly once."""
    server = CollectorServer(tmp_path)
    names = ["tokyo-1", "osaka-1", "sapporo-1"]
    tokens = {name: server.register(name, PREFIXES) for name in names}
    server.start()
    sent = []
    uploaders = []
    for k, name in enumerate(names):
        spool = Spool(tmp_path / f"spool-{name}", max_bytes=1 << 30)
        for b in _batches(packets, 100):
            b = shifted(b, k * 10**15)
            spool.put(encode_body(b), len(b))
            sent += [int(t) for t in b.ts_ns]
        uploaders.append(_uploader(spool, server, tokens[name], name))
    stop = threading.Event()
    threads = [threading.Thread(target=u.drain, args=(stop,)) for u in uploaders]
    for t in threads:
        t.start()
    rng = random.Random(7)
    kills = 0
    try:
        while any(t.is_alive() for t in threads) and kills < 6:
            time.sleep(rng.uniform(0.2, 1.0))
            server.kill()
            kills += 1
            server.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
    finally:
        stop.set()
        server.stop()
    assert kills >= 1
    assert all(u.spool.entries() == [] for u in uploaders)
    assert _stored_ts(server.store) == sorted(sent)
    assert sum(u.stats.sent + u.stats.duplicates for u in uploaders) == 300


def test_https_with_the_collectors_ca(tmp_path, packets, certificate):
    """TLS: with the collector's certificate as CA the batch is stored; without it the
    uploader refuses the unknown certificate and keeps the batch."""
    cert, _ = certificate
    server = CollectorServer(tmp_path, tls=certificate)
    token = server.register("tokyo-1", PREFIXES)
    server.start()
    try:
        spool = Spool(tmp_path / "spool", max_bytes=1 << 30)
        (batch,) = _batches(packets, 1)
        spool.put(encode_body(batch), len(batch))
        untrusted = Uploader(spool, server.url, "tokyo-1", token, timeout=5)
        assert not untrusted.send(spool.entries()[0]) and len(spool.entries()) == 1
        trusted = Uploader(spool, server.url, "tokyo-1", token, ca_file=cert, timeout=5)
        trusted.drain()
        assert spool.entries() == [] and trusted.stats.sent == 1
        assert _stored_ts(server.store) == sorted(int(t) for t in batch.ts_ns)
    finally:
        server.stop()
