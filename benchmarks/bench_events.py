"""Event benchmark: scan-event and DoS-attack extraction over a quarter of ≥ 5 M packets.

Run with ``.venv/bin/python benchmarks/bench_events.py`` (``make bench`` calls it). It

1. simulates (once per generator, store schema and rollup version, then cached under
   ``benchmarks/.cache/``) a quarter of darknet traffic on the default four sensors with
   :mod:`teiten.simulate`, ingests it into a store there, and declares the sensors'
   sizes;
2. times, in process, the extraction of the quarter's scan events and of its DoS
   attacks (each computed from the packets, not read back from the stored events:
   the darknet's size and one DuckDB query per family), best of ``--repeat`` runs;
3. times reading the stored events back, as a second ``teiten events`` call does.

Rates are the quarter's stored packets divided by the seconds taken. It prints a
table, writes ``benchmarks/.cache/events-results.json`` and exits 0, or 2 when a
part could not run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
PERIOD = "2024Q2"


def bench_config(packets: int) -> Any:
    """A quarter (91 day partitions) on the default sensors, the default behaviour mix."""
    from teiten.simulate import SimulationConfig

    return SimulationConfig(
        start=datetime(2024, 4, 1, tzinfo=UTC),
        end=datetime(2024, 7, 1, tzinfo=UTC),
        packets=packets,
        seed=20240402,
    )


def cached_store(packets: int) -> tuple[Path, dict[str, Any]]:
    """The store of the simulated quarter (built and timed when missing)."""
    from teiten.enrich import open_geo
    from teiten.ingest import ingest
    from teiten.simulate import GENERATOR_VERSION, simulate_to_pcap
    from teiten.store import Store
    from teiten.store.rollup import VERSION as ROLLUP_VERSION
    from teiten.store.schema import SCHEMA_VERSION
    from teiten.store.sensors import declare_sensor

    config = bench_config(packets)
    key = json.dumps(
        {
            "generator": GENERATOR_VERSION,
            "schema": SCHEMA_VERSION,  # a store of another schema is built again
            "rollup": ROLLUP_VERSION,
            "config": config.as_json(),
        },
        sort_keys=True,
    )
    folder = CACHE / "events" / f"{packets}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    built: dict[str, Any] = {}
    if not (folder / "store" / "manifest.sqlite").exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        print(f"simulating {packets:,} packets over {PERIOD} into {partial} …", flush=True)
        started = time.perf_counter()
        paths = simulate_to_pcap(config, partial / "captures", per="day")
        built["simulate_s"] = time.perf_counter() - started
        store = Store(partial / "store")
        geo = open_geo()
        started = time.perf_counter()
        for sensor in config.sensors:
            mine = [p for p in paths if p.parent.name == sensor.name]
            report = ingest(mine, store, geo, sensor=sensor.name)
            if not report.ok:
                raise RuntimeError(f"ingest failed: {report.as_json()['errors'][:3]}")
            declare_sensor(store, sensor.name, prefixes=[sensor.prefix])
        built["ingest_s"] = time.perf_counter() - started
        store.close()
        shutil.rmtree(partial / "captures")  # the store is what is measured
        partial.rename(folder)
    return folder / "store", built


def measure(store_path: Path, repeat: int) -> dict[str, Any]:
    from teiten.analyze.darknet import darknet_size
    from teiten.analyze.dos import DosParams, dos_attacks, extract_attacks
    from teiten.analyze.events import Window
    from teiten.analyze.periods import parse_period
    from teiten.analyze.scans import ScanParams, extract_scans, scan_events
    from teiten.store import Store, open_engine

    period = parse_period(PERIOD)
    results: dict[str, Any] = {}
    with open_engine(Store(store_path, create=False), "duckdb") as engine:
        (row,) = engine.rows(
            "SELECT count(*) AS n, count(*) FILTER (WHERE kind = 'probe') AS probes, "
            "count(*) FILTER (WHERE kind = 'backscatter') AS backscatter, "
            "count(DISTINCT day) AS days FROM packets WHERE day >= $first AND day < $end",
            {"first": period.start, "end": period.end},
        )
        packets = int(row["n"])
        results["store"] = {k: int(v) for k, v in row.items()}

        def scans() -> int:
            darknet = darknet_size(engine, period.start, period.end)
            window = Window(period.start, period.end, ScanParams().timeout_s)
            return extract_scans(engine, window, ScanParams(), darknet)[0].num_rows

        def attacks() -> int:
            darknet = darknet_size(engine, period.start, period.end)
            window = Window(period.start, period.end, DosParams().timeout_s)
            return extract_attacks(engine, window, DosParams(), darknet)[0].num_rows

        for name, run in (("scans", scans), ("dos", attacks)):
            run()  # warm the page cache and DuckDB's metadata
            times, found = [], 0
            for _ in range(repeat):
                started = time.perf_counter()
                found = run()
                times.append(time.perf_counter() - started)
            best = min(times)
            results[name] = {
                "events": found,
                "seconds": best,
                "seconds_all": times,
                "packets_per_s": packets / best,
            }
        both = results["scans"]["seconds"] + results["dos"]["seconds"]
        results["both"] = {"seconds": both, "packets_per_s": packets / both}
        # Stored results: the first call computes and writes, the next ones read back.
        scan_events(engine, period, refresh=True)
        dos_attacks(engine, period, refresh=True)
        started = time.perf_counter()
        reused = scan_events(engine, period).reused and dos_attacks(engine, period).reused
        results["reuse"] = {"seconds": time.perf_counter() - started, "reused": reused}
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=5_000_000, help="packets in the quarter")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per extraction")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
        },
        "period": PERIOD,
    }
    try:
        store, built = cached_store(args.packets)
        report["built_now"] = built or None
        report |= measure(store, args.repeat)
    except Exception as exc:  # the report must say what is missing, whatever it is
        print(f"MISSING  event extraction: {type(exc).__name__}: {exc}")
        return 2
    s = report["store"]
    print(
        f"\n{PERIOD}: {s['n']:,} packets over {s['days']} days "
        f"({s['probes']:,} probes, {s['backscatter']:,} backscatter), 4 sensors, declared\n"
    )
    print(f"{'':<34} {'events':>8} {'seconds':>8} {'packets/s':>14}")
    for label, key in (
        ("scan events (Durumeric et al.)", "scans"),
        ("DoS attacks (corsaro)", "dos"),
    ):
        r = report[key]
        print(f"{label:<34} {r['events']:>8,} {r['seconds']:>8.2f} {r['packets_per_s']:>14,.0f}")
    b = report["both"]
    print(f"{'both':<34} {'':>8} {b['seconds']:>8.2f} {b['packets_per_s']:>14,.0f}")
    print(f"(stored events read back in {report['reuse']['seconds'] * 1000:.0f} ms)")
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / "events-results.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
