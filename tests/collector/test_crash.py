"""kill -9 at random moments while sensors stream batches: nothing lost, nothing twice."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace

import httpx
import numpy as np
import pyarrow.dataset as ds
import pytest

from teiten.store import Store

from ._batches import PREFIXES, capture_packets, headers, into_prefixes, wire
from ._server import CollectorServer

SENSORS = ["tokyo-1", "osaka-2", "sapporo-3"]
BATCHES_PER_SENSOR = 700
KILLS = 5


@pytest.fixture(scope="module")
def packets():
    return into_prefixes(capture_packets("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng"))


def _batches(packets, sensor_index: int) -> list[tuple[bytes, str, np.ndarray]]:
    """Small batches (1-12 packets) whose timestamps are unique across the whole test."""
    rng = random.Random(sensor_index)
    out, start = [], 0
    for n in range(BATCHES_PER_SENSOR):
        size = rng.randint(1, 12)
        rows = np.arange(start, start + size) % len(packets.ts_ns)
        start += size
        decoded = packets.select(rows)
        unique = (sensor_index * 10**7 + n * 100 + np.arange(size)).astype(np.int64)
        ts = np.int64(1_556_668_800 * 10**9) + unique * 1000  # 2019-05-01, distinct per packet
        decoded = replace(decoded, ts_ns=ts)
        body, digest = wire(decoded)
        out.append((body, digest, ts))
    return out


def _stream(server, sensor, token, batches, answers, retries, stop):
    """A retrying uploader: every batch until 200/201, backing off on errors and 5xx."""
    with httpx.Client(timeout=10) as client:
        for seq, (body, digest, _) in enumerate(batches):
            delay = 0.02
            while not stop.is_set():
                try:
                    r = client.post(
                        server.url + "/v1/batches",
                        content=body,
                        headers=headers(sensor, token, digest, seq),
                    )
                except httpx.TransportError as exc:
                    retries.append(type(exc).__name__)
                else:
                    if r.status_code in (200, 201):
                        answers.append(r.status_code)
                        break
                    assert r.status_code in (503, 507), r.text
                    retries.append(r.status_code)
                time.sleep(delay)
                delay = min(delay * 2, 0.5)


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(tmp_path, packets):
    server = CollectorServer(tmp_path, max_concurrent_requests=16)
    tokens = {s: server.register(s, PREFIXES) for s in SENSORS}
    server.start()
    sent = {s: _batches(packets, i) for i, s in enumerate(SENSORS)}
    answers: list[int] = []
    retries: list[object] = []
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_stream, args=(server, s, tokens[s], sent[s], answers, retries, stop)
        )
        for s in SENSORS
    ]
    for t in threads:
        t.start()
    rng = random.Random(5)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            server.start()
        for t in threads:
            t.join(timeout=240)
            assert not t.is_alive(), "uploads did not finish"
    finally:
        stop.set()
        server.stop()
    total = sum(len(b) for b in sent.values())
    assert len(answers) == total
    assert retries, "no upload was interrupted: the kills missed"

    stored = ds.dataset(str(server.store / "packets"), format="parquet")
    table = stored.to_table(columns=["ts", "ts_ns", "sensor"])
    ts = np.sort(
        table.column("ts").cast("int64").to_numpy() * 1000 + table.column("ts_ns").to_numpy()
    )
    expected = np.sort(np.concatenate([b[2] for batches in sent.values() for b in batches]))
    assert len(ts) == len(expected)  # 0 lost, 0 duplicated ...
    assert np.array_equal(ts, expected)  # ... and exactly the packets sent
    store = Store(server.store, create=False)
    digests = {i.digest for i in store.manifest.inputs()}
    assert digests == {b[1] for batches in sent.values() for b in batches}
    assert not store.manifest.batches(state="pending")
    print(
        f"{total} batches, {len(retries)} failed attempts retried, {answers.count(200)} "
        "answered duplicate"
    )
