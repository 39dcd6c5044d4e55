"""Fingerprint benchmark: what tagging every packet at ingest costs.

Run by itself (``.venv/bin/python benchmarks/bench_fingerprint.py``) or from
``bench_ingest.py``. On the cached simulated capture (≥ 5 M packets, see
``bench_ingest.capture``) it

1. times, in process and per chunk, an ingest worker's work: ``decode_batch``,
   the country/AS lookup, ``tag_packets`` (all fingerprints, with and without a
   research scanner list of 1,000 networks) and building the Arrow table — so
   tagging can be set against the rest;
2. checks the tags against the simulation's ``truth.json``: every ``mirai``,
   ``zmap`` and ``masscan`` packet tagged, every backscatter kind counted;
3. times whole-process ``teiten ingest`` with the fingerprints on and with
   ``tag_packets`` replaced by an all-zero column (the core ingest), alternating
   the two, and reports the slowdown. Target: under 20 %.

Prints a table, writes ``benchmarks/.cache/fingerprint.json``; exit 0 when the
target is met, 1 when missed.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # as bench_ingest: one decode core

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import _WRAPPER, CACHE, capture

TARGET_SLOWDOWN = 0.20
RESEARCH_NETWORKS = 1_000

# `teiten ingest` in a child process, optionally with tagging replaced by zeros.
_INGEST = r"""
import sys
if sys.argv[1] == "off":
    import numpy as np
    import teiten.ingest
    teiten.ingest.tag_packets = lambda d, context=None: np.zeros(len(d.ts_ns), np.uint32)
from teiten.cli import main
main(sys.argv[2:], prog_name="teiten")
"""


def research_list(n: int = RESEARCH_NETWORKS, seed: int = 3) -> Any:
    """A list of ``n`` random /24 … /16 IPv4 networks: the cost of a large user list."""
    import random

    from teiten.fingerprint import ResearchNetworks

    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        bits = rng.randint(16, 24)
        network = rng.getrandbits(32) >> (32 - bits) << (32 - bits)
        lines.append(f"{network >> 24}.{network >> 16 & 255}.{network >> 8 & 255}.0/{bits}")
    return ResearchNetworks.parse("\n".join(lines) + "\n", "<benchmark>")


def in_process(path: str, truth: dict[str, Any]) -> dict[str, Any]:
    """Per-chunk timings of an ingest worker's stages, and tag counts against the truth."""
    from teiten.capture import open_capture
    from teiten.decode import decode_batch
    from teiten.enrich import open_geo
    from teiten.fingerprint import TAG_BITS, TagContext, tag_packets
    from teiten.store import packets_table

    geo = open_geo()
    plain, listed = TagContext(), TagContext(research=research_list())
    seconds: Counter[str] = Counter()
    tagged: Counter[str] = Counter()
    packets = 0
    with open_capture(path) as reader:
        for i, batch in enumerate(reader):
            laps = [time.perf_counter()]
            decoded = decode_batch(batch)
            laps.append(time.perf_counter())
            geo_tags = geo.tag(decoded.src)
            laps.append(time.perf_counter())
            tags = tag_packets(decoded, plain.for_chunk(geo_tags))
            laps.append(time.perf_counter())
            tag_packets(decoded, listed.for_chunk(geo_tags))
            laps.append(time.perf_counter())
            packets_table(decoded, "bench", geo_tags, tags)
            laps.append(time.perf_counter())
            for label, bit in TAG_BITS.items():
                tagged[label] += int(((tags >> bit) & 1).sum())
            if i == 0:  # warm-up: numba loads its cached kernels
                continue
            packets += len(decoded)
            stages = ("decode", "geo", "tag", "tag_with_research", "table")
            for stage, start, end in zip(stages, laps, laps[1:], strict=False):
                seconds[stage] += end - start
    ns = {stage: s / packets * 1e9 for stage, s in seconds.items()}
    core = ns["decode"] + ns["geo"] + ns["table"]
    behaviours = truth["by_behaviour"]
    expected = {
        "mirai": "mirai",
        "zmap": "zmap",
        "masscan": "masscan",
        "bs-synack": "backscatter-synack",
        "bs-rst": "backscatter-rst",
        "bs-icmp-echo-reply": "backscatter-echo-reply",
        "bs-icmp-unreachable": "backscatter-unreachable",
    }
    return {
        "packets_timed": packets,
        "ns_per_packet": ns,
        "tag_vs_core": ns["tag"] / core,
        "tag_with_research_vs_core": ns["tag_with_research"] / core,
        "tags_vs_truth": {
            label: {"tagged": tagged[label], "truth": behaviours[name]["packets"]}
            for label, name in expected.items()
        },
        "other_tags": {k: v for k, v in tagged.items() if k not in expected and v},
    }


def ingest_once(path: str, mode: str) -> dict[str, Any]:
    """Whole-process ``teiten ingest`` into a fresh store, fingerprints ``on`` or ``off``."""
    store = Path(tempfile.mkdtemp(prefix="teiten-bench-fp-"))
    try:
        cmd = [sys.executable, "-c", _INGEST, mode, "ingest", "--store", str(store)]
        cmd += ["--sensor", "bench", "--json", path]
        run = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *cmd], capture_output=True, text=True, check=True
        )
        child = json.loads(run.stdout)
    finally:
        shutil.rmtree(store, ignore_errors=True)
    if child["rc"] != 0:
        raise RuntimeError(f"ingest ({mode}) exited {child['rc']}: {child['stderr'][-500:]}")
    return {"seconds": child["wall_s"], "cpu_seconds": child["cpu_s"]}


def whole_process(path: str, packets: int, rounds: int) -> dict[str, Any]:
    """Alternate fingerprints on/off ``rounds`` times; medians and the slowdown."""
    ingest_once(path, "on")  # warm the page cache and numba's cache, untimed
    runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    for _ in range(rounds):
        for mode in ("off", "on"):
            runs[mode].append(ingest_once(path, mode))
    median = {
        mode: {
            "seconds": statistics.median(r["seconds"] for r in rs),
            "cpu_seconds": statistics.median(r["cpu_seconds"] for r in rs),
        }
        for mode, rs in runs.items()
    }
    for m in median.values():
        m["packets_per_s"] = packets / m["seconds"]
    return {
        "packets": packets,
        "rounds": rounds,
        "runs": runs,
        "median": median,
        "slowdown": median["on"]["seconds"] / median["off"]["seconds"] - 1,
        "cpu_slowdown": median["on"]["cpu_seconds"] / median["off"]["cpu_seconds"] - 1,
    }


def measure(packets: int = 5_000_000, rounds: int = 3) -> dict[str, Any]:
    """Everything above, on the cached capture of ``packets`` packets."""
    cap = capture(packets)
    truth = json.loads((Path(cap["path"]).parents[1] / "truth.json").read_text())
    return {
        "capture": {"path": cap["path"], "packets": cap["packets"]},
        "in_process": in_process(cap["path"], truth),
        "whole_process": whole_process(cap["path"], cap["packets"], rounds),
    }


def verdict(result: dict[str, Any]) -> tuple[str, float, bool]:
    slowdown = result["whole_process"]["slowdown"]
    return "ingest with fingerprints < 20 % slower", slowdown, slowdown < TARGET_SLOWDOWN


def print_report(result: dict[str, Any]) -> None:
    ip, wp = result["in_process"], result["whole_process"]
    print(f"\ningest worker, per packet ({ip['packets_timed']:,} packets after a warm-up chunk):")
    for stage, ns in ip["ns_per_packet"].items():
        print(f"  {stage:<20} {ns:7.1f} ns")
    print(f"  tagging / (decode + geo + table): {ip['tag_vs_core']:.1%}")
    print(
        f"  with a {RESEARCH_NETWORKS:,}-network research list: "
        f"{ip['tag_with_research_vs_core']:.1%}"
    )
    print("tags against truth.json:")
    for label, c in ip["tags_vs_truth"].items():
        same = "=" if c["tagged"] == c["truth"] else f"{c['tagged'] - c['truth']:+d}"
        print(f"  {label:<22} {c['tagged']:>10,} tagged  {c['truth']:>10,} sent  {same}")
    print(f"whole-process ingest of {wp['packets']:,} packets, median of {wp['rounds']}:")
    for mode in ("off", "on"):
        m = wp["median"][mode]
        print(
            f"  fingerprints {mode:<3} {m['seconds']:7.2f} s  {m['packets_per_s']:>12,.0f} pkt/s"
            f"  {m['cpu_seconds']:7.2f} s CPU"
        )
    print(f"  slowdown {wp['slowdown']:+.1%} (wall), {wp['cpu_slowdown']:+.1%} (CPU)")
    name, value, ok = verdict(result)
    print(f"{'PASS' if ok else 'FAIL'}  {name}  ({value:+.1%})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=5_000_000, help="packets in the capture")
    parser.add_argument("--rounds", type=int, default=3, help="whole-process runs per mode")
    args = parser.parse_args(argv)
    result = measure(args.packets, args.rounds)
    print_report(result)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "fingerprint.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if verdict(result)[2] else 1


if __name__ == "__main__":
    sys.exit(main())
