"""Collector benchmark: sustained ingest over HTTP with four sensors uploading at once.

Run with ``.venv/bin/python benchmarks/bench_collector.py [--packets N] [--batch N]``. It

1. simulates a week of darknet traffic on the default four sensors
   (:mod:`teiten.simulate`), decodes it and cuts each sensor's packets into wire
   batches of ``--batch`` packets (50,000 by default, about what a busy /24 sensor
   spools in a minute); this is not timed;
2. starts ``teiten collector serve`` in its own process on a fresh store, as deployed,
   and registers the four sensors;
3. times four threads, one per sensor identity, each uploading its batches one
   after the other (as a sensor's uploader does), from the first request to the
   last 201; every batch is stored with country, AS and fingerprint tags.

It prints packets/s and batches/s, writes ``benchmarks/.cache/collector-results.json``
and exits 0 (2 when the collector could not run or a batch was refused).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"


def make_batches(packets: int, batch: int) -> dict[str, list[tuple[bytes, str, int]]]:
    """Per sensor name: (body, batch id, packets) of each wire batch."""
    import numpy as np

    from teiten.decode import DecodedPackets, decode_batch
    from teiten.simulate import SimulationConfig, generate_packets
    from teiten.transport.wire import body_digest, encode_body

    config = SimulationConfig(
        start=datetime(2024, 4, 1, tzinfo=UTC),
        end=datetime(2024, 4, 8, tzinfo=UTC),
        packets=packets,
        seed=20240401,
    )
    names = [s.name for s in config.sensors]
    pending: dict[str, list[DecodedPackets]] = {n: [] for n in names}
    out: dict[str, list[tuple[bytes, str, int]]] = {n: [] for n in names}

    def emit(name: str, final: bool) -> None:
        parts = pending[name]
        if not parts:
            return
        joined = DecodedPackets(
            **{
                f.name: np.concatenate([getattr(p, f.name) for p in parts])
                for f in fields(parts[0])
            }
        )
        cut = len(joined) if final else len(joined) - len(joined) % batch
        for start in range(0, cut, batch):
            rows = joined.select(np.arange(start, min(start + batch, cut)))
            body = encode_body(rows)
            out[name].append((body, body_digest(body), len(rows)))
        pending[name] = [joined.select(np.arange(cut, len(joined)))] if cut < len(joined) else []

    for chunk in generate_packets(config):
        decoded = decode_batch(chunk.batch)
        for index, name in enumerate(names):
            mine = decoded.select((chunk.sensor == index) & decoded.decoded)
            if len(mine):
                pending[name].append(mine)
                if sum(len(p) for p in pending[name]) >= batch:
                    emit(name, final=False)
    for name in names:
        emit(name, final=True)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_collector(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    config = folder / "collector.toml"
    config.write_text(
        f'[listen]\nport = {port}\n[store]\npath = "{folder / "store"}"\n'
        '[limits]\nmax_concurrent_requests = 8\n[log]\nlevel = "warning"\n'
    )
    log = open(folder / "collector.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-m", "teiten.cli", "collector", "serve", "--config", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((folder / "collector.log").read_text())
        try:
            httpx.get(url + "/health", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the collector did not start within 60 s")


def upload(url: str, sensor: str, token: str, batches: list, errors: list) -> None:
    import httpx

    from teiten.transport.wire import WIRE_CONTENT_TYPE

    with httpx.Client(timeout=120) as client:
        for seq, (body, digest, _) in enumerate(batches):
            headers = {
                "Authorization": f"Bearer {token}",
                "X-Teiten-Sensor": sensor,
                "X-Teiten-Batch-Digest": digest,
                "X-Teiten-Batch-Seq": str(seq),
                "Content-Type": WIRE_CONTENT_TYPE,
            }
            while True:
                answer = client.post(url + "/v1/batches", content=body, headers=headers)
                if answer.status_code == 503:
                    time.sleep(0.05)
                    continue
                if answer.status_code != 201:
                    errors.append(f"{sensor} batch {seq}: {answer.status_code} {answer.text}")
                    return
                break


def run(packets: int, batch: int) -> dict[str, Any]:
    from teiten.collector import Registry
    from teiten.simulate import DEFAULT_SENSORS
    from teiten.store import Store

    t0 = time.perf_counter()
    batches = make_batches(packets, batch)
    prepared = time.perf_counter() - t0
    folder = Path(tempfile.mkdtemp(prefix="bench-collector-", dir=CACHE))
    try:
        store = Store(folder / "store")
        registry = Registry(store.root)
        tokens = {s.name: registry.add(store, s.name, [s.prefix]) for s in DEFAULT_SENSORS}
        registry.close()
        store.close()
        process, url = start_collector(folder)
        errors: list[str] = []
        threads = [
            threading.Thread(target=upload, args=(url, name, tokens[name], batches[name], errors))
            for name in batches
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - t0
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        if errors:
            raise RuntimeError("; ".join(errors[:3]))
        sent = sum(n for bs in batches.values() for _, _, n in bs)
        stored = Store(folder / "store", create=False)
        in_store = sum(i.packets for i in stored.manifest.inputs())
        body_bytes = sum(len(b) for bs in batches.values() for b, _, _ in bs)
        return {
            "packets": sent,
            "stored": in_store,
            "batches": sum(len(bs) for bs in batches.values()),
            "batch_packets": batch,
            "sensors": len(batches),
            "seconds": round(seconds, 3),
            "packets_per_second": round(sent / seconds),
            "batches_per_second": round(sum(len(bs) for bs in batches.values()) / seconds, 1),
            "body_mib": round(body_bytes / 2**20, 1),
            "prepare_seconds": round(prepared, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=8_000_000, help="packets in all")
    parser.add_argument("--batch", type=int, default=50_000, help="packets per batch")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        result = run(args.packets, args.batch)
    except Exception as exc:  # a benchmark reports, it does not crash
        print(f"collector benchmark could not run: {exc}", file=sys.stderr)
        return 2
    (CACHE / "collector-results.json").write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"collector, {result['sensors']} sensors uploading {result['batch_packets']:,}-packet "
        f"batches over HTTP: {result['packets']:,} packets ({result['batches']} batches, "
        f"{result['body_mib']} MiB) stored in {result['seconds']:.1f} s = "
        f"{result['packets_per_second']:,} packets/s, {result['batches_per_second']} batches/s"
    )
    return 0 if result["stored"] == result["packets"] else 2


if __name__ == "__main__":
    sys.exit(main())
