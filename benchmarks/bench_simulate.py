"""Simulator benchmark: a quarter of darknet traffic under the 2019q2 scenario, three ways.

Run by itself (``.venv/bin/python benchmarks/bench_simulate.py [--packets N]``). For
one quarter (2019-04-01 … 2019-06-30, four /24 sensors, the ``2019q2`` scenario,
20 M packets by default) it times, each in a fresh temporary directory:

1. generation alone (chunks built in memory, ground truth counted);
2. ``simulate_to_pcap`` (one pcap per sensor and day, plus ``truth.json``);
3. ``simulate_to_store`` (decoded, geo-tagged and fingerprinted rows written as
   Parquet, one batch per day — what ingesting the pcaps would store).

Prints packets/s for each and writes ``benchmarks/.cache/simulate.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # as bench_ingest: one decode core

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"


def config(packets: int, seed: int = 2019):  # type: ignore[no-untyped-def]
    from teiten.simulate import SimulationConfig, load_scenario

    return SimulationConfig(
        start=datetime(2019, 4, 1, tzinfo=UTC),
        end=datetime(2019, 7, 1, tzinfo=UTC),
        packets=packets,
        seed=seed,
        scenario=load_scenario("2019q2"),
    )


def _generate(packets: int, _: Path) -> None:
    from teiten.simulate import GroundTruth, generate_packets

    cfg = config(packets)
    truth = GroundTruth(cfg, "ethernet")
    for chunk in generate_packets(cfg):
        truth.add(chunk)
    truth.as_json()


def _pcap(packets: int, out: Path) -> None:
    from teiten.simulate import simulate_to_pcap

    simulate_to_pcap(config(packets), out / "captures", per="day")


def _store(packets: int, out: Path) -> None:
    from teiten.simulate import simulate_to_store
    from teiten.store import Store

    simulate_to_store(config(packets), Store(out / "store"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=20_000_000)
    parser.add_argument("--only", choices=["generate", "pcap", "store"], action="append")
    args = parser.parse_args(argv)
    runs = {"generate": _generate, "pcap": _pcap, "store": _store}
    results = {}
    print(f"{'what':<28} {'packets':>12} {'seconds':>9} {'packets/s':>12}")
    for name, run in runs.items():
        if args.only and name not in args.only:
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-simulate-{name}-"))
        try:
            started = time.perf_counter()
            run(args.packets, tmp)
            seconds = time.perf_counter() - started
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        rate = args.packets / seconds
        results[name] = {"packets": args.packets, "seconds": round(seconds, 2), "rate": round(rate)}
        print(f"{name:<28} {args.packets:>12,} {seconds:>9.1f} {rate:>12,.0f}", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB")
    CACHE.mkdir(exist_ok=True)
    (CACHE / "simulate.json").write_text(json.dumps({"results": results, "peak_mb": peak_mb}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
