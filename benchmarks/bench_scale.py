"""Scale benchmark: a quarter's rankings, phenomena and report on stores of 30 M and 300 M packets.

Run with ``.venv/bin/python benchmarks/bench_scale.py [--sizes 30000000,300000000]``
(``make bench`` calls it). For each size it

1. builds (once, then cached under ``benchmarks/.cache/scale/``) a store of 2019H1
   with whole-process ``teiten simulate --store DIR --scenario 2019q2``, so that
   2019Q2 has a previous quarter; the cache is keyed by the generator, store schema
   and rollup versions and the options, and remembers how long building took;
2. rebuilds its rollups once with whole-process ``teiten store rollup --json`` (the
   figure for an existing store: seconds per 100 M packets, rows, bytes);
3. times, whole-process (start-up to exit, the child's peak RSS from ``wait4``),
   ``teiten top ports``, ``teiten top countries --metric sources``, ``teiten
   phenomena`` and ``teiten report --format md --lang ja`` (the report's default
   language, the first ``make demo`` writes) for 2019Q2, median of ``--repeat`` runs
   after one untimed warm-up run, each started after ``sync``, on the store as
   ``teiten store rollup`` left it: with the scan events and DoS attacks of the ended
   months and quarters that it computes from the session fragments, their digests,
   and those periods' phenomena
   (``<store>/events``). The same two commands are timed again with all of those
   emptied before every run (no target): the cost of a first call that must find the
   phenomena and merge the events, as after late packets changed a day. A command whose
   RSS passes ``--stop-above-mb`` (4 GB) is stopped, and fails its targets: DuckDB
   takes up to 80 % of the memory of a machine that may be shared;
4. times the peer, DuckDB alone in its own process, running the raw top-ports query
   over the store's packet Parquet, and checks that ``teiten top ports --json`` gives
   the same packets and sources for the ports both list;
5. last, on the smallest store, times each of the four commands once with ``--engine spark``
   (PySpark in local mode on this machine's JRE, both installed by ``make bench``;
   ``--no-spark`` skips it), stopping a run after 20 minutes.

Targets (on the largest size): ``top ports`` ≤ 1.5 s, ``report --format md`` ≤ 15 s,
peak RSS ≤ 1 GB (1,024 MB as printed, MiB) for every teiten command, and each of the
four commands' median seconds within 1.3× of its figure on the smallest size (cost
flat in packets). It prints a table, writes ``benchmarks/.cache/scale-results.json``
and exits 0 when every target is met, 1 when one is missed, 2 when a part could not
run (the table says which and why).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache"
TEITEN = Path(sys.executable).with_name("teiten")

PERIOD = "2019Q2"
SCENARIO = "2019q2"
START, END, SEED = "2019-01-01", "2019-07-01", 2019
LANG = "ja"

TARGET_TOP_PORTS_S = 1.5
TARGET_REPORT_S = 15.0
TARGET_RSS_MB = 1024.0
TARGET_FLAT = 1.3
STOP_ABOVE_MB = 4096.0  # a command past 4× the memory target is stopped: the machine is shared

PEER_SQL = (
    "SELECT proto, dport, count(*) AS packets, count(DISTINCT src) AS sources "
    "FROM read_parquet('{glob}', hive_partitioning=true) "
    "WHERE day >= DATE '2019-04-01' AND day < DATE '2019-07-01' AND kind='probe' "
    "GROUP BY ALL ORDER BY packets DESC LIMIT 10"
)
_PEER = r"""
import json, sys, duckdb
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # it would print on stdout
rows = con.sql(sys.argv[1]).fetchall()
print(json.dumps([[int(p), None if d is None else int(d), int(n), int(s)] for p, d, n, s in rows]))
"""


@dataclass(frozen=True)
class Command:
    """One timed command: its label, its arguments after the store, and its targets."""

    key: str
    label: str
    args: tuple[str, ...]
    target_s: float | None = None
    flat: bool = True  # judged against the smallest size's figure
    clear_events: bool = False  # empty the stored scan/DoS events before every run
    writes_out: bool = False  # gets --out FILE in a fresh folder


COMMANDS = (
    Command("top_ports", "teiten top ports", ("top", "ports"), TARGET_TOP_PORTS_S),
    Command(
        "top_countries",
        "teiten top countries --metric sources",
        ("top", "countries", "--metric", "sources"),
    ),
    Command("phenomena", "teiten phenomena", ("phenomena",)),
    Command(
        "report",
        f"teiten report --format md --lang {LANG}",
        ("report", "--format", "md", "--lang", LANG),
        TARGET_REPORT_S,
        writes_out=True,
    ),
    Command(
        "phenomena_cold",
        "teiten phenomena, found anew",
        ("phenomena",),
        flat=False,
        clear_events=True,
    ),
    Command(
        "report_cold",
        "teiten report --format md, all anew",
        ("report", "--format", "md", "--lang", LANG),
        flat=False,
        clear_events=True,
        writes_out=True,
    ),
)


class Stop(Exception):
    """A part failed and --keep-going was not given."""


@dataclass
class Results:
    """Everything measured, and what could not be."""

    keep_going: bool
    data: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def part(self, name: str, run: Any) -> Any:
        """Run one part; a failure is recorded as missing (and stops the run without
        --keep-going)."""
        try:
            return run()
        except Exception as exc:  # the report must say what is missing, whatever it is
            detail = f"{type(exc).__name__}: {exc}".strip().splitlines()[-1][:300]
            self.missing.append(f"{name}: {detail}")
            print(f"MISSING  {name}: {detail}", flush=True)
            if not self.keep_going:
                raise Stop from exc
            return None


# --- whole-process runs -------------------------------------------------------------------


def _resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_measured(
    cmd: list[str], stop_above_mb: float = 0.0, stop_after_s: float = 0.0
) -> dict[str, Any]:
    """Run ``cmd`` as a child; its wall seconds, its own peak RSS (``wait4``), its output.

    With ``stop_above_mb``, a child whose resident memory passes it is killed and the
    run is marked ``stopped`` (its seconds and peak RSS are then lower bounds); so is one
    running past ``stop_after_s`` seconds. It runs in
    a temporary folder, which takes what DuckDB spills to ``.tmp/`` and a killed child leaves.
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory(prefix="teiten-bench-scale-") as cwd,  # DuckDB spills here
    ):
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        done, stopped = threading.Event(), []

        def watch() -> None:
            while not done.wait(0.1):
                rss = _resident_mb(proc.pid)
                late = stop_after_s and time.perf_counter() - started > stop_after_s
                if (stop_above_mb and rss > stop_above_mb) or late:
                    stopped.append(rss)
                    proc.kill()
                    return

        if stop_above_mb or stop_after_s:
            threading.Thread(target=watch, daemon=True).start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    run = {
        "seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": max([usage.ru_maxrss / 1024, *stopped]),
        "stdout": stdout,
    }
    if stopped:
        return {**run, "stopped": True}
    if proc.returncode != 0:
        shown = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(cmd[:4]))[:160]
        kept = CACHE / "failures" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}.log"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(" ".join(cmd) + "\n\n" + stderr)
        raise RuntimeError(
            f"{shown} … exited {proc.returncode}: {stderr.strip()[-400:]} (whole stderr: "
            f"{kept.relative_to(ROOT)})"
        )
    return run


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [r["seconds"] for r in runs]
    return {
        "seconds": statistics.median(seconds),
        "all_seconds": [round(s, 3) for s in seconds],
        "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
    }


# --- stores -------------------------------------------------------------------------------


def simulate_args(packets: int) -> list[str]:
    return [
        "--scenario", SCENARIO, "--packets", str(packets),
        "--start", START, "--end", END, "--seed", str(SEED),
    ]  # fmt: skip


def store_folder(packets: int) -> Path:
    """``scale/<packets>-<key>``: the key changes with the code versions and the options."""
    from teiten.simulate import GENERATOR_VERSION
    from teiten.store.rollup import VERSION as ROLLUP_VERSION
    from teiten.store.schema import SCHEMA_VERSION

    key = json.dumps(
        {
            "generator": GENERATOR_VERSION,
            "schema": SCHEMA_VERSION,
            "rollup": ROLLUP_VERSION,
            "simulate": simulate_args(packets),
        },
        sort_keys=True,
    )
    return CACHE / "scale" / f"{packets}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def cached_store(packets: int) -> dict[str, Any]:
    """The store of ``packets`` packets over 2019H1, built whole-process when missing."""
    if not TEITEN.exists():
        raise RuntimeError(f"{TEITEN} not found: the teiten CLI is not installed (make setup)")
    folder = store_folder(packets)
    built_file = folder / "built.json"
    if not built_file.exists():
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        print(f"simulating {packets:,} packets ({START} … {END}) into {partial} …", flush=True)
        cmd = [str(TEITEN), "simulate", "--store", str(partial / "store"), "--json"]
        run = run_measured(cmd + simulate_args(packets))
        stored = json.loads(run["stdout"])["packets"]
        if stored != packets:
            raise RuntimeError(f"teiten simulate stored {stored:,} of {packets:,} packets")
        built = {
            "seconds": run["seconds"],
            "peak_rss_mb": run["peak_rss_mb"],
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        (partial / "built.json").write_text(json.dumps(built, indent=2) + "\n")
        partial.rename(folder)
        cached = False
    else:
        built, cached = json.loads(built_file.read_text()), True
    store = folder / "store"
    return {
        "path": str(store),
        "packets": packets,
        "built": built,
        "cached": cached,
        "packets_bytes": _bytes(store / "packets"),
        "rollups_bytes": _bytes(store / "rollups"),
    }


def rebuild_rollups(store: str) -> dict[str, Any]:
    """Whole-process ``teiten store rollup --json``: every day rolled up anew from packets
    (and the events and phenomena of the ended months and quarters computed anew: an
    earlier run's are emptied first)."""
    clear_events(store)
    run = run_measured([str(TEITEN), "store", "rollup", "--store", store, "--json"])
    answer = json.loads(run["stdout"])
    return {
        "packets": answer["packets"],
        "days": len(answer["days"]),
        "rows": answer["rows"],
        "bytes": answer["bytes"],
        "seconds": answer["seconds"],
        "process_seconds": run["seconds"],
        "peak_rss_mb": run["peak_rss_mb"],
        "seconds_per_100m": answer["seconds"] / answer["packets"] * 1e8,
        "periods": answer["periods"]["summed"],
        "periods_seconds": answer["periods"]["seconds"],
        "periods_bytes": _bytes(Path(store) / "period_rollups"),
        "sessions_days": max((len(d) for d in answer["sessions"]["computed"].values()), default=0),
        "sessions_seconds": answer["sessions"]["seconds"],
        "sessions_events": answer["sessions"].get("events", []),
        "sessions_findings": answer["sessions"].get("findings", []),
        "sessions_bytes": _bytes(Path(store) / "sessions"),
    }


# --- the commands and the peer ------------------------------------------------------------


def clear_events(store: str) -> None:
    """Empty the stored scan events, DoS attacks and phenomena (a cache the next call
    refills)."""
    shutil.rmtree(Path(store) / "events", ignore_errors=True)


def time_command(
    command: Command,
    store: str,
    repeat: int,
    stop_above_mb: float,
    *,
    engine: str = "duckdb",
    warm_up: bool = True,
    stop_after_s: float = 0.0,
) -> dict[str, Any]:
    """Median wall seconds and max peak RSS of ``repeat`` runs, after one untimed run
    (``warm_up``), each started after ``sync``.

    A run stopped for its memory (or its time) ends the measurement: its figures are
    lower bounds.
    """
    runs = []
    for i in range(repeat + 1 if warm_up else repeat):
        if command.clear_events:
            clear_events(store)
        # Every run starts after sync (as bench_ingest.py's do): the files `store rollup`
        # just wrote are otherwise written back to disk during the timings (30 s later).
        os.sync()
        with tempfile.TemporaryDirectory(prefix="teiten-bench-scale-") as tmp:
            cmd = [str(TEITEN), *command.args, "--store", store, "--period", PERIOD]
            cmd += ["--engine", engine]
            if command.writes_out:
                cmd += ["--out", str(Path(tmp) / f"report-{PERIOD}.{LANG}.md")]
            run = run_measured(cmd, stop_above_mb, stop_after_s)
        if run.get("stopped"):
            return {
                "stopped": True,
                "seconds": run["seconds"],
                "peak_rss_mb": run["peak_rss_mb"],
                "cpu_seconds": run["cpu_seconds"],
                "all_seconds": [],
            }
        if i or not warm_up:  # the first run warms the page cache
            runs.append(run)
    return median_of(runs)


def peer_command(store: str) -> list[str]:
    glob = (Path(store) / "packets" / "*" / "*.parquet").as_posix()
    return [sys.executable, "-c", _PEER, PEER_SQL.format(glob=glob)]


def time_peer(store: str, repeat: int) -> dict[str, Any]:
    runs = [run_measured(peer_command(store)) for _ in range(repeat + 1)][1:]
    return {**median_of(runs), "rows": json.loads(runs[-1]["stdout"])}


def agreement(store: str, peer_rows: list[list[int | None]]) -> dict[str, Any]:
    """Do ``teiten top ports --json`` and the raw query give the same packets and sources?"""
    run = run_measured(
        [str(TEITEN), "top", "ports", "--store", store, "--period", PERIOD, "--json"]
    )
    protos = {"tcp": 6, "udp": 17}
    ours = {
        (protos[r["proto"]], r["port"]): (r["packets"], r["sources"])
        for r in json.loads(run["stdout"])["rows"]
        if r["proto"] in protos
    }
    theirs = {(p, d): (n, s) for p, d, n, s in peer_rows if p in protos.values()}
    both = sorted(ours.keys() & theirs.keys())
    differ = [k for k in both if ours[k] != theirs[k]]
    return {"compared": len(both), "differ": differ, "agree": bool(both) and not differ}


# --- report -------------------------------------------------------------------------------


def verdicts(d: dict[str, Any], sizes: list[int]) -> dict[str, dict[str, Any]]:
    """Every target that could be judged: name → value, pass, and the command it is on."""
    out: dict[str, dict[str, Any]] = {}
    small, large = sizes[0], sizes[-1]
    at = _short(large)
    for c in COMMANDS:
        figures = d.get("commands", {}).get(c.key, {})
        big, base = figures.get(str(large)), figures.get(str(small))
        # A run stopped for its memory did not finish: every target on it fails.
        done = bool(big) and not big.get("stopped")
        if big and c.target_s is not None:
            value = big["seconds"]
            name = f"{c.label} ≤ {c.target_s:g} s at {at}"
            ok = done and value <= c.target_s
            out[name] = {"value": value, "pass": ok, "command": c.key, "stopped": not done}
        if big:
            value = big["peak_rss_mb"]
            name = f"{c.label}: peak RSS ≤ 1 GB at {at}"
            ok = done and value <= TARGET_RSS_MB
            out[name] = {"value": value, "pass": ok, "command": c.key, "stopped": not done}
        if c.flat and big and base and large != small:
            value = big["seconds"] / base["seconds"]
            name = f"{c.label}: {at} within {TARGET_FLAT:g}× of {_short(small)}"
            ok = done and not base.get("stopped") and value <= TARGET_FLAT
            out[name] = {"value": value, "pass": ok, "command": c.key, "stopped": not done}
    for size, check in d.get("agreement", {}).items():
        name = f"teiten top ports and DuckDB's raw query agree at {_short(int(size))}"
        out[name] = {"value": check["agree"], "pass": check["agree"], "command": "top_ports"}
    return out


def _short(n: int) -> str:
    return f"{n / 10**6:g} M" if n >= 10**6 else f"{n / 1000:g} k"


def _target(c: Command, sizes: list[int]) -> str:
    parts = [f"≤ {c.target_s:g} s"] if c.target_s is not None else []
    if c.flat and len(sizes) > 1:
        parts.append(f"≤ {TARGET_FLAT:g}×")
    return ", ".join([*parts, "≤ 1 GB"])


def print_table(d: dict[str, Any], sizes: list[int]) -> None:
    small, large = sizes[0], sizes[-1]
    judged = verdicts(d, sizes)
    s1, s2 = f"{_short(small)} s", f"{_short(large)} s"
    print()
    print(
        f"{'command':<42} {s1:>8} {s2:>8} {'ratio':>7} {'peak RSS MB':>15}  {'target':<24} verdict"
    )

    def row(label: str, figures: dict[str, Any], target: str, verdict: str) -> None:
        a, b = figures.get(str(small)), figures.get(str(large))

        def more(f: dict[str, Any]) -> str:  # a stopped run's figures are lower bounds
            return ">" if f.get("stopped") else ""

        ratio = f"{b['seconds'] / a['seconds']:>6.2f}×" if a and b and small != large else ""
        ratio = f"{more(b) if b else ''}{ratio.strip()}"
        rss = " / ".join(f"{more(f)}{f['peak_rss_mb']:.0f}" if f else "—" for f in (a, b))
        cells = [f"{more(f)}{f['seconds']:.2f}" if f else "—" for f in (a, b)]
        print(
            f"{label:<42} {cells[0]:>8} {cells[1]:>8} {ratio:>7} {rss:>15}  {target:<24} {verdict}"
        )

    for c in COMMANDS:
        mine = [v["pass"] for v in judged.values() if v["command"] == c.key]
        verdict = ("PASS" if all(mine) else "FAIL") if mine else "—"
        row(c.label, d.get("commands", {}).get(c.key, {}), _target(c, sizes), verdict)
    row("peer: DuckDB raw top-ports query", d.get("peer", {}), "(peer)", "")
    for c in COMMANDS:
        spark = d.get("spark", {}).get(c.key)
        if spark:
            more = ">" if spark.get("stopped") else ""
            # Spark computes the events from the packets, not by merging fragments
            label = c.label.replace("found anew", "events from the packets")
            label = label.replace("all anew", "events from the packets")
            print(
                f"{label + ' --engine spark':<42} {more}{spark['seconds']:>7.2f} "
                f"at {spark['packets']} (local mode, one run; DuckDB: see above)"
            )
    for size in sizes:
        ours = d.get("commands", {}).get("top_ports", {}).get(str(size))
        peer = d.get("peer", {}).get(str(size))
        if ours and peer:
            print(
                f"(at {_short(size)}: teiten top ports {ours['seconds']:.2f} s from the rollups, "
                f"DuckDB's raw query {peer['seconds']:.2f} s over the packets: "
                f"teiten in {ours['seconds'] / peer['seconds']:.2f}× the peer's time)"
            )
    print()
    for size in sizes:
        s = d.get("stores", {}).get(str(size))
        if not s:
            continue
        built = s["built"]
        how = "cached, built" if s["cached"] else "built now"
        print(
            f"store {_short(size)}: {how} in {built['seconds']:.0f} s "
            f"(teiten simulate, peak RSS {built['peak_rss_mb']:.0f} MB); "
            f"packets/ {s['packets_bytes'] / 1e9:.2f} GB "
            f"({s['packets_bytes'] / size:.1f} B/packet), "
            f"rollups/ {s['rollups_bytes'] / 1e6:.1f} MB ({s['rollups_bytes'] / size:.2f} B/packet)"
        )
        r = d.get("rollup", {}).get(str(size))
        if r:
            print(
                f"  teiten store rollup: {r['seconds']:.1f} s ({r['process_seconds']:.1f} s whole "
                f"process, peak RSS {r['peak_rss_mb']:.0f} MB) = "
                f"{r['seconds_per_100m']:.1f} s per 100 M packets; "
                f"{r['rows']:,} rows, {r['bytes'] / 1e6:.1f} MB over {r['days']} days; "
                f"then {len(r['periods'])} periods (months, quarters, ISO weeks) summed in "
                f"{r['periods_seconds']:.1f} s ({r['periods_bytes'] / 1e6:.1f} MB); "
                f"scan/DoS session fragments of {r.get('sessions_days', 0)} days and "
                f"{len(r.get('sessions_events', []))} event lists and the phenomena of "
                f"{len(r.get('sessions_findings', []))} ended months and quarters computed in "
                f"{r.get('sessions_seconds', 0.0):.1f} s "
                f"({r.get('sessions_bytes', 0) / 1e6:.1f} MB)"
            )
    print()
    stopped = [
        c.label
        for c in COMMANDS
        if any(f.get("stopped") for f in d.get("commands", {}).get(c.key, {}).values())
    ]
    if stopped:
        print(
            f"> : stopped when its RSS passed {d['stop_above_mb']:,.0f} MB, figures are lower "
            f"bounds ({', '.join(stopped)})"
        )
    machine = d["machine"]
    load = [", ".join(f"{x:.1f}" for x in machine[k]) for k in ("load_before", "load_after")]
    print(f"load average (1, 5, 15 min): {load[0]} before, {load[1]} after")
    print()
    for name, v in judged.items():
        value = v["value"]
        shown = f"{value:,.2f}" if isinstance(value, float) else str(value)
        shown = f"> {shown}, stopped" if v.get("stopped") else shown
        print(f"{'PASS' if v['pass'] else 'FAIL'}  {name}  ({shown})")
    for what in d.get("missing", []):
        print(f"MISSING  {what}")


def measure(r: Results, sizes: list[int], repeat: int, stop_above_mb: float, spark: bool) -> None:
    d = r.data
    for size in sizes:
        label = _short(size)
        store = r.part(f"store {label}", lambda size=size: cached_store(size))
        if not store:
            continue
        d.setdefault("stores", {})[str(size)] = store
        path = store["path"]
        print(f"{label}: rebuilding the rollups (teiten store rollup) …", flush=True)
        rollup = r.part(f"rollup {label}", lambda path=path: rebuild_rollups(path))
        if rollup:
            d.setdefault("rollup", {})[str(size)] = rollup
            d["stores"][str(size)]["rollups_bytes"] = _bytes(Path(path) / "rollups")
        os.sync()  # no run pays for the rebuild's write-back
        for c in COMMANDS:
            print(f"{label}: timing {c.label} (median of {repeat}) …", flush=True)
            got = r.part(
                f"{c.label} {label}", lambda c=c, p=path: time_command(c, p, repeat, stop_above_mb)
            )
            if got:
                d.setdefault("commands", {}).setdefault(c.key, {})[str(size)] = got
        print(f"{label}: timing the peer (DuckDB, raw Parquet) …", flush=True)
        peer = r.part(f"peer {label}", lambda path=path: time_peer(path, repeat))
        if peer:
            d.setdefault("peer", {})[str(size)] = peer
            rows = peer["rows"]
            check = r.part(f"agreement {label}", lambda p=path, rows=rows: agreement(p, rows))
            if check:
                d.setdefault("agreement", {})[str(size)] = check
    # Spark last: the JVM's runs take minutes, and one that fails must not keep the
    # DuckDB targets of the larger stores from being measured.
    smallest = d.get("stores", {}).get(str(sizes[0]))
    if spark and smallest:
        time_spark(r, smallest["path"], _short(sizes[0]))


SPARK_STOP_AFTER_S = 1200.0


def time_spark(r: Results, store: str, label: str) -> None:
    """Each command once with ``--engine spark`` (local mode: a JVM on this machine, started
    by every run), stopped after :data:`SPARK_STOP_AFTER_S`. A failed run's whole stderr,
    with the JVM's stack (``TEITEN_DEBUG``), is kept under ``.cache/failures``."""
    os.environ["TEITEN_DEBUG"] = "1"  # the last runs of the bench: nothing else sees it
    for c in COMMANDS:
        print(f"{label}: timing {c.label} --engine spark (once) …", flush=True)
        got = r.part(
            f"spark {c.label} {label}",
            lambda c=c: time_command(
                c, store, 1, 0.0, engine="spark", warm_up=False, stop_after_s=SPARK_STOP_AFTER_S
            ),
        )
        if got:
            r.data.setdefault("spark", {})[c.key] = {**got, "packets": label}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="30000000,300000000",
        help="packets in each store, comma-separated; the first is the base of the ratios, "
        "the last is judged against the absolute targets [default: %(default)s]",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each command")
    parser.add_argument(
        "--no-spark",
        action="store_true",
        help="skip the commands' --engine spark figures on the smallest store",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="when a part fails (a store, a command), go on with the others instead of stopping",
    )
    parser.add_argument(
        "--stop-above-mb",
        type=float,
        default=STOP_ABOVE_MB,
        help="stop a command whose RSS passes this many MB (it fails its targets; DuckDB may "
        "take 80%% of the machine's memory, which may be shared); 0: never [default: %(default)g]",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    if args.repeat < 1 or not sizes or sizes[0] < 1:
        parser.error("--repeat and every size must be ≥ 1")

    r = Results(keep_going=args.keep_going)
    r.data["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_before": os.getloadavg(),
    }
    r.data |= {
        "period": PERIOD,
        "scenario": SCENARIO,
        "sizes": sizes,
        "repeat": args.repeat,
        "stop_above_mb": args.stop_above_mb,
    }
    print(
        f"stores of {', '.join(f'{s:,}' for s in sizes)} packets, {START} … {END}, "
        f"scenario {SCENARIO} (cached in {CACHE.relative_to(ROOT)}/scale)",
        flush=True,
    )
    try:
        measure(r, sizes, args.repeat, args.stop_above_mb, not args.no_spark)
    except Stop:
        print("stopped (--keep-going goes on with the other parts)")
    r.data["machine"]["load_after"] = os.getloadavg()
    r.data["missing"] = r.missing
    print_table(r.data, sizes)
    CACHE.mkdir(parents=True, exist_ok=True)
    out = CACHE / "scale-results.json"
    report = {**r.data, "targets": verdicts(r.data, sizes)}
    out.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")
    if r.missing:
        return 2
    return 0 if all(v["pass"] for v in verdicts(r.data, sizes).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
