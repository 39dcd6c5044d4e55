"""Web benchmark: the HTTP API and the dashboard of `teiten serve` on the 30 M quarter store.

Run with ``.venv/bin/python benchmarks/bench_web.py [--clients 20] [--rounds 5]
[--store DIR]``. It

1. takes the 30 M-packet store of ``bench_scale.py`` (2019H1, the 2019q2 scenario;
   built and cached there when missing; its stale period rollups summed first, as
   ``teiten store rollup --periods`` does), or the store ``--store`` (or
   ``$TEITEN_BENCH_WEB_STORE``) names, which it only reads;
2. starts ``teiten serve`` on it in its own process (request budget raised: this
   measures answers, not the limiter), and, as the peer, a plain FastAPI app answering
   ``{"hello": "world"}`` under the same uvicorn;
3. with warming off (``[cache] warm = false``), sends ``--clients`` concurrent clients
   through a list of top/ports, top/countries and series requests (periods: the
   quarter, its months and weeks; metrics, traffic kinds, countries, tags, ports): the
   first pass finds every answer anew ("first"), the next ``--rounds`` passes ask again
   ("again", from the cache per store version); the peer gets as many requests the
   same way;
4. on a new server, still without warming, loads the overview of three periods in
   Debian's headless chromium and times it until its charts are drawn
   (``document.body.dataset.ready``): the first load of each period, and a later one;
5. on a new server with warming on, waits until ``/api/v1/health`` says the standard
   answers are made, then sends the same clients through what a first visit of the
   dashboard asks for ("warmed"): the overview, series, phenomena and events pages of
   the default period and of the picker's presets, then the API answers their scripts
   fetch (sparklines, series, phenomena, the store); and loads in chromium the overview
   of the default period, and of a period that is not a preset, for the first time.

Targets (issue 13): p95 of the API's top/series endpoints ≤ 200 ms, the dashboard
interactive ≤ 1.5 s. It prints requests/s and p50/p95 beside the peer, writes
``benchmarks/.cache/web-results.json`` and exits 1 when a target is missed, naming it.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import CACHE, cached_store  # noqa: E402

TARGET_P95_S = 0.200
TARGET_PAGE_S = 1.5
PERIODS = ["2019Q2", "2019-04", "2019-05", "2019-06", "2019-W15", "2019-W20", "2019-W24"]
PAGE_PERIODS = ["2019Q2", "2019-05", "2019-W20"]  # overview loads, warming off
NOT_A_PRESET = "2019-05"  # an overview loaded first after warm-up, not made ahead
DASHBOARD_PAGES = ("/", "/series", "/phenomena", "/events")
ENV_STORE = "TEITEN_BENCH_WEB_STORE"
WARM_TIMEOUT_S = 900


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requests_for(periods: list[str]) -> list[str]:
    """The API requests a dashboard makes for these periods (paths with queries)."""
    out = []
    for p in periods:
        out += [
            f"/api/v1/top/ports?period={p}",
            f"/api/v1/top/ports?period={p}&metric=sources",
            f"/api/v1/top/ports?period={p}&country=JP&tag=mirai",
            f"/api/v1/top/countries?period={p}",
            f"/api/v1/top/countries?period={p}&traffic=backscatter",
            f"/api/v1/series?period={p}",
            f"/api/v1/series?period={p}&port=23&proto=tcp",
            f"/api/v1/series?period={p}&country=JP",
            f"/api/v1/series?period={p}&port=445&proto=tcp&metric=sources",
        ]
    return out


async def _load(
    base: str, paths: list[str], clients: int, bodies: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every path once, ``clients`` at a time: latencies, requests/s, statuses, and how
    many answers were ready (``X-Cache: hit``); the bodies into ``bodies`` if given."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    latencies: list[float] = []
    failures: list[str] = []
    hits = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal hits
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            response = await http.get(base + path)
            latencies.append(time.perf_counter() - started)
            hits += response.headers.get("x-cache") == "hit"
            if response.status_code != 200:
                failures.append(f"{path}: {response.status_code} {response.text[:200]}")
            if bodies is not None:
                bodies[path] = response.text

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {**_summary(latencies, elapsed, failures), "hits": hits}


def _summary(latencies: list[float], elapsed: float, failures: list[str]) -> dict[str, Any]:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {
        "requests": len(ordered),
        "seconds": elapsed,
        "per_second": len(ordered) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p95_ms": 1000 * p95,
        "max_ms": 1000 * ordered[-1],
        "failures": failures,
    }


def _links(text: str, pattern: str) -> list[str]:
    return [html.unescape(found) for found in re.findall(pattern, text)]


def _first_visit(base: str, clients: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a first visit of the dashboard asks for, ``clients`` at a time: the pages of
    the default period and of the picker's presets, then the API answers their scripts
    fetch. (Its pages' figures, its charts' figures.)"""
    overview = httpx.get(base + "/", timeout=300).text
    queries = ["", *_links(overview, r'class="preset" href="\?([^"]+)"')]
    pages = [f"{page}?{query}" for query in queries for page in DASHBOARD_PAGES]
    bodies: dict[str, str] = {}
    shown = asyncio.run(_load(base, pages, clients, bodies))
    charts = [
        url
        for text in bodies.values()
        for url in _links(text, r'data-(?:series|phenomena)="(/api/v1/[^"]+)"')
    ]
    asked = asyncio.run(_load(base, [*dict.fromkeys(charts), "/api/v1/store"], clients))
    return shown, asked


_PEER = textwrap.dedent(
    """
    import sys, uvicorn
    from fastapi import FastAPI
    app = FastAPI()
    @app.get("/hello")
    async def hello():
        return {"hello": "world"}
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
    """
)


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited:\n{log.read_text()[-2000:]}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()[-2000:]}")


def _wait_warm(base: str) -> dict[str, Any]:
    """The health's warm state once it says done."""
    deadline = time.monotonic() + WARM_TIMEOUT_S
    while time.monotonic() < deadline:
        state: dict[str, Any] = httpx.get(base + "/api/v1/health", timeout=10).json()["warm"]
        if state["state"] in ("done", "failed", "off"):
            return state
        time.sleep(0.2)
    raise RuntimeError(f"warming did not finish in {WARM_TIMEOUT_S} s")


@contextmanager
def _process(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def _teiten_serve(store: Path, work: Path, name: str, *, warm: bool) -> Iterator[str]:
    """``teiten serve`` on ``store`` (warming on or off): its base URL, once it answers."""
    port = _free_port()
    config = work / f"{name}.toml"
    config.write_text(
        f'[store]\npath = "{store}"\n[listen]\nport = {port}\n'
        "[limits]\nrequests_per_minute = 1000000\nburst = 1000000\ncache_entries = 4096\n"
        f"[cache]\nwarm = {str(warm).lower()}\n"
    )
    log = work / f"{name}.log"
    command = [sys.executable, "-m", "teiten.cli", "serve", "--config", str(config)]
    with _process(command, log) as server:
        base = f"http://127.0.0.1:{port}"
        _wait(base + "/api/v1/health", server, log)
        yield base


def _page_times(base: str, urls: list[str], rounds: int = 1) -> list[list[float]]:
    """Seconds until each page (an overview) is drawn in chromium, ``rounds`` times."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "web"))
    from browser import CHROMIUM, CHROMIUM_ARGS  # the tests' launch settings

    out: list[list[float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page()
            for _ in range(rounds):
                times = []
                for url in urls:
                    started = time.perf_counter()
                    page.goto(base + url, timeout=300_000)
                    ready = page.locator("body[data-ready='true']")
                    ready.wait_for(state="attached", timeout=300_000)
                    times.append(time.perf_counter() - started)
                out.append(times)
        finally:
            browser.close()
    return out


def _measure(store: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    paths = requests_for(PERIODS)
    with _teiten_serve(store, work, "cold", warm=False) as base:
        first = asyncio.run(_load(base, paths, args.clients))
        again = asyncio.run(_load(base, paths * args.rounds, args.clients))
    with _teiten_serve(store, work, "pages", warm=False) as base:
        urls = [f"/?period={p}" for p in PAGE_PERIODS]
        page_first, page_again = _page_times(base, urls, rounds=2)
    started = time.perf_counter()
    with _teiten_serve(store, work, "warm", warm=True) as base:
        warm = _wait_warm(base)
        warm["seconds"] = time.perf_counter() - started
        pages_warmed, warmed = _first_visit(base, args.clients)
        ((default_s, other_s),) = _page_times(base, ["/", f"/?period={NOT_A_PRESET}"])
        held = httpx.get(base + "/api/v1/store", timeout=300).json()
    port = _free_port()
    with _process([sys.executable, "-c", _PEER, str(port)], work / "peer.log") as process:
        peer = f"http://127.0.0.1:{port}"
        _wait(peer + "/hello", process, work / "peer.log")
        hello = asyncio.run(_load(peer, ["/hello"] * len(paths) * args.rounds, args.clients))
    return {
        "packets": held["packets"],
        "days": held["days"],
        "first": first,
        "again": again,
        "warm": warm,
        "warmed": warmed,
        "warmed_pages": pages_warmed,
        "peer_hello": hello,
        "pages": {
            "periods": PAGE_PERIODS,
            "first_s": page_first,
            "again_s": page_again,
            "first_max_s": max(page_first),
            "again_max_s": max(page_again),
            "default_after_warm_s": default_s,
            "not_a_preset": NOT_A_PRESET,
            "not_a_preset_first_s": other_s,
        },
    }


def _print(r: dict[str, Any], clients: int) -> None:
    print(
        f"teiten serve on {r['packets']:,} packets ({r['days']} days, {r['store']}), "
        f"{clients} clients at once"
    )
    warm = r["warm"]
    print(
        f"warm-up: {warm['done']} of {warm['of']} requests of a first visit made ahead "
        f"({warm['state']}) {warm['seconds']:.1f} s after start"
    )
    print(f"{'':36}{'requests':>9}{'ready':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for label, row in (
        ("API, first (found anew)", r["first"]),
        ("API, again (cached)", r["again"]),
        ("API, warmed (a first visit's charts)", r["warmed"]),
        ("pages, warmed (a first visit's)", r["warmed_pages"]),
        ("peer: FastAPI hello", r["peer_hello"]),
    ):
        ready = str(row["hits"]) if label.startswith("API") else ""
        print(
            f"{label:36}{row['requests']:>9}{ready:>7}{row['per_second']:>8.0f}"
            f"{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}{row['max_ms']:>9.1f}"
        )
    pages = r["pages"]
    print(
        f"overview drawn, warming off: first {pages['first_max_s']:.2f} s (worst of "
        f"{len(pages['periods'])} periods), again {pages['again_max_s']:.2f} s"
    )
    print(
        f"overview drawn after warm-up: default period {pages['default_after_warm_s']:.2f} s, "
        f"{pages['not_a_preset']} (not a preset, first) {pages['not_a_preset_first_s']:.2f} s"
    )


def _checks(r: dict[str, Any]) -> dict[str, bool]:
    target_ms, pages = 1000 * TARGET_P95_S, r["pages"]
    runs = ("first", "again", "warmed", "warmed_pages")
    return {
        "API p95 ≤ 200 ms, first (found anew)": r["first"]["p95_ms"] <= target_ms,
        "API p95 ≤ 200 ms, again (cached)": r["again"]["p95_ms"] <= target_ms,
        "API p95 ≤ 200 ms, warmed (a first visit)": r["warmed"]["p95_ms"] <= target_ms,
        "every answer of a first visit made ahead": (
            r["warm"]["state"] == "done" and r["warmed"]["hits"] == r["warmed"]["requests"]
        ),
        "overview ≤ 1.5 s, first (warming off)": pages["first_max_s"] <= TARGET_PAGE_S,
        "overview ≤ 1.5 s, again": pages["again_max_s"] <= TARGET_PAGE_S,
        "overview ≤ 1.5 s, default period after warm-up": (
            pages["default_after_warm_s"] <= TARGET_PAGE_S
        ),
        f"overview ≤ 1.5 s, {NOT_A_PRESET} (not a preset) after warm-up": (
            pages["not_a_preset_first_s"] <= TARGET_PAGE_S
        ),
        "no failed request": not any(r[run]["failures"] for run in runs),
    }


def _sum_periods(store: Path) -> list[str]:
    """``teiten store rollup --periods`` on ``store``: the periods it summed (none when
    every one is current)."""
    command = [sys.executable, "-m", "teiten.cli", "store", "rollup", "--periods"]
    run = subprocess.run(
        [*command, "--store", str(store), "--json"], capture_output=True, text=True, check=True
    )
    return list(json.loads(run.stdout)["periods"]["summed"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=30_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--store",
        type=Path,
        default=os.environ.get(ENV_STORE),
        help=f"an existing store to serve, read only [default: ${ENV_STORE}, else the "
        "cached 30 M store of bench_scale.py]",
    )
    args = parser.parse_args()
    store = args.store or Path(cached_store(args.packets)["path"])
    if not args.store:  # its period rollups and digests as the code now makes them
        summed = _sum_periods(store)
        if summed:
            print(f"summed {len(summed)} period rollup(s) of the cached store first")
    work = Path(tempfile.mkdtemp(prefix="teiten-bench-web-"))
    results = {
        "store": str(store),
        "clients": args.clients,
        **_measure(store, work, args),
        "targets": {"p95_ms": 1000 * TARGET_P95_S, "page_s": TARGET_PAGE_S},
    }
    checks = _checks(results)
    results["checks"] = checks
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "web-results.json").write_text(json.dumps(results, indent=2) + "\n")
    _print(results, args.clients)
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'} {name}")
    runs = ("first", "again", "warmed", "warmed_pages")
    for failure in [f for run in runs for f in results[run]["failures"]][:5]:
        print(f"  failed: {failure}")
    missed = [name for name, ok in checks.items() if not ok]
    if missed:
        print("missed: " + "; ".join(missed))
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
