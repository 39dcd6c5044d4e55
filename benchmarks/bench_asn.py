"""AS table benchmark: how fast addresses are looked up, and what converting a file costs.

Run with ``.venv/bin/python benchmarks/bench_asn.py [--ranges 500000] [--addresses 1000000]``
(not part of ``make test``). It writes, in a temporary folder:

* an iptoasn-format ``ip2asn-v4.tsv.gz`` of ``--ranges`` disjoint IPv4 ranges (iptoasn's
  real v4 file has about 500 k rows), 1 in 10 not routed, with gaps between some;
* a prefix2as file of ``--prefixes`` prefixes, /8 to /24, most of them nested in others
  (the slow path of the import: overlaps resolved most-specific-wins);

imports both into a fresh store (``teiten.store.asn.import_asn_file``), loads the
iptoasn edition back (``load_asn_table``) and times lookups of ``--addresses`` random
IPv4 addresses:

1. ``AsnTable.lookup`` on the whole array in random order (two binary searches after
   sorting it), and already sorted (as the tagger asks: distinct sources are sorted);
2. through ``AsnTableTagger`` as ingest does: a cold cache (every address new) and a
   warm one (every address seen before: the per-packet cost of a darknet's repeat
   sources).

Best of ``--repeat`` runs each. Prints a table and writes ``benchmarks/.cache/asn.json``.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import gzip
import json
import socket
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CACHE = Path(__file__).resolve().parent / ".cache"


def _ip(value: int) -> str:
    return socket.inet_ntoa(struct.pack(">I", value))


def write_iptoasn(path: Path, n: int, rng: np.random.Generator) -> None:
    bounds = np.unique(rng.integers(1, 2**32 - 1, 2 * n + n // 10, dtype=np.uint64))
    bounds = bounds[: 2 * n].reshape(-1, 2)
    asn = rng.integers(1, 400_000, len(bounds))
    asn[rng.random(len(bounds)) < 0.1] = 0
    with gzip.open(path, "wt", compresslevel=1) as f:
        for (start, end), number in zip(bounds.tolist(), asn.tolist(), strict=True):
            name = "Not routed" if number == 0 else f"AS{number} Holder"
            f.write(f"{_ip(start)}\t{_ip(end)}\t{number}\tJP\t{name}\n")


def write_prefix2as(path: Path, n: int, rng: np.random.Generator) -> None:
    lengths = rng.choice([8, 12, 16, 20, 22, 24], n, p=[0.001, 0.009, 0.09, 0.1, 0.2, 0.6])
    host = (32 - lengths).astype(np.uint64)
    networks = rng.integers(0, 2**32, n, dtype=np.uint64) >> host << host
    seen = set()
    with gzip.open(path, "wt", compresslevel=1) as f:
        for net, length, number in zip(
            networks.tolist(), lengths.tolist(), rng.integers(1, 400_000, n).tolist(), strict=True
        ):
            if (net, length) not in seen:
                seen.add((net, length))
                f.write(f"{_ip(net)}\t{length}\t{number}\n")


def best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranges", type=int, default=500_000)
    parser.add_argument("--prefixes", type=int, default=1_000_000)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from teiten.enrich.addresses import IPV4
    from teiten.enrich.geo import AsnTableTagger
    from teiten.store import Store
    from teiten.store.asn import import_asn_file, load_asn_table

    rng = np.random.default_rng(2026)
    result: dict[str, Any] = {"ranges_asked": args.ranges, "addresses": args.addresses}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tsv, pfx = work / "ip2asn-v4.tsv.gz", work / "routeviews-rv2-20240501-1200.pfx2as.gz"
        write_iptoasn(tsv, args.ranges, rng)
        write_prefix2as(pfx, args.prefixes, rng)
        store = Store(work / "store")
        for name, path in (("prefix2as", pfx), ("iptoasn", tsv)):
            started = time.perf_counter()
            record, _ = import_asn_file(store, path)
            result[f"import_{name}_s"] = time.perf_counter() - started
            result[f"{name}_ranges"] = record["ranges"]["ipv4"]
            result[f"{name}_input_rows"] = record["input"]["rows"]
            result[f"{name}_overlapping"] = record["input"]["overlapping"]
            result[f"{name}_table_bytes"] = (
                (store.root / "asn" / record["edition"] / "table.npz").stat().st_size
            )
        result["load_s"] = best(lambda: load_asn_table(store.root), args.repeat)
        table = load_asn_table(store.root)
        assert table is not None

        keys = rng.integers(0, 2**32, args.addresses, dtype=np.uint64).astype(np.uint32)
        ordered = np.sort(keys)
        result["lookup_random_s"] = best(lambda: table.lookup(IPV4, keys), args.repeat)
        result["lookup_sorted_s"] = best(lambda: table.lookup(IPV4, ordered), args.repeat)
        asn, found = table.lookup(IPV4, keys)
        result["found_share"] = float(found.mean())

        rows = np.zeros((n := len(keys), 16), np.uint8)  # IPv4-mapped rows, as decoded
        rows[:, 10:12] = 0xFF
        rows[:, 12:] = keys.astype(">u4").view(np.uint8).reshape(n, 4)
        cold = []
        for _ in range(args.repeat):
            tagger = AsnTableTagger(table)
            started = time.perf_counter()
            tags = tagger.tag(rows)
            cold.append(time.perf_counter() - started)
        result["tagger_cold_s"] = min(cold)
        result["tagger_warm_s"] = best(lambda: tagger.tag(rows), args.repeat)
        assert (tags.has_asn <= found).all()  # bogons are never tagged; otherwise the table
        routable = tags.has_asn
        assert (tags.asn[routable] == asn[routable]).all()

    for what in ("lookup_random", "lookup_sorted", "tagger_cold", "tagger_warm"):
        result[f"{what}_per_s"] = n / result[f"{what}_s"]
    _print(result)
    CACHE.mkdir(exist_ok=True)
    (CACHE / "asn.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


def _print(r: dict[str, Any]) -> None:
    print(
        f"iptoasn  {r['iptoasn_input_rows']:>9,} lines -> {r['iptoasn_ranges']:>9,} ranges "
        f"in {r['import_iptoasn_s']:.2f} s, table {r['iptoasn_table_bytes'] / 1e6:.1f} MB"
    )
    print(
        f"prefix2as {r['prefix2as_input_rows']:>8,} lines -> {r['prefix2as_ranges']:>9,} ranges "
        f"({r['prefix2as_overlapping']:,} overlapping) in {r['import_prefix2as_s']:.2f} s, "
        f"table {r['prefix2as_table_bytes'] / 1e6:.1f} MB"
    )
    print(f"load the iptoasn table: {r['load_s'] * 1e3:.0f} ms")
    print(f"{r['addresses']:,} random IPv4 addresses ({r['found_share']:.0%} in a range):")
    for what, label in (
        ("lookup_random", "AsnTable.lookup, random order"),
        ("lookup_sorted", "AsnTable.lookup, sorted"),
        ("tagger_cold", "AsnTableTagger, all new"),
        ("tagger_warm", "AsnTableTagger, all seen before"),
    ):
        print(f"  {label:<34} {r[f'{what}_s'] * 1e3:8.1f} ms  {r[f'{what}_per_s'] / 1e6:6.2f} M/s")


if __name__ == "__main__":
    sys.exit(main())
