"""Web benchmark: the HTTP API and the dashboard of `teiten serve` on the 30 M quarter store.

Run with ``.venv/bin/python benchmarks/bench_web.py [--clients 20] [--rounds 5]``. It

1. takes the 30 M-packet store of ``bench_scale.py`` (2019H1, the 2019q2 scenario;
   built and cached there when missing);
2. starts ``teiten serve`` on it in its own process (request budget raised: this
   measures answers, not the limiter), and, as the peer, a plain FastAPI app answering
   ``{"hello": "world"}`` under the same uvicorn;
3. sends ``--clients`` concurrent clients through a list of top/ports, top/countries and
   series requests (periods: the quarter, its months and weeks; metrics, traffic kinds,
   countries, tags, ports): the first pass finds every answer anew ("first"), the next
   ``--rounds`` passes ask again ("again", from the cache per store version); the peer
   gets as many requests the same way;
4. loads the overview in Debian's headless chromium and times it until its charts are
   drawn (``document.body.dataset.ready``): the first load of a period and a later one.

Targets (issue 13): p95 of the API's top/series endpoints ≤ 200 ms, the dashboard
interactive ≤ 1.5 s. It prints requests/s and p50/p95 beside the peer, writes
``benchmarks/.cache/web-results.json`` and exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_scale import CACHE, cached_store  # noqa: E402

TARGET_P95_S = 0.200
TARGET_PAGE_S = 1.5
PERIODS = ["2019Q2", "2019-04", "2019-05", "2019-06", "2019-W15", "2019-W20", "2019-W24"]


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


async def _load(base: str, paths: list[str], clients: int) -> dict[str, Any]:
    """Every path once, ``clients`` at a time: latencies, requests/s, statuses."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    latencies: list[float] = []
    failures: list[str] = []

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            path = queue.get_nowait()
            started = time.perf_counter()
            response = await http.get(base + path)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(f"{path}: {response.status_code} {response.text[:200]}")

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return _summary(latencies, elapsed, failures)


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


def _page_times(base: str, periods: list[str]) -> dict[str, Any]:
    """Seconds until the overview of each period is drawn, first and again, in chromium."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "web"))
    from browser import CHROMIUM, CHROMIUM_ARGS  # the tests' launch settings

    first, again = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            page = browser.new_page()
            for times in (first, again):
                for period in periods:
                    started = time.perf_counter()
                    page.goto(f"{base}/?period={period}")
                    page.locator("body[data-ready='true']").wait_for(state="attached")
                    times.append(time.perf_counter() - started)
        finally:
            browser.close()
    return {
        "periods": periods,
        "first_s": first,
        "again_s": again,
        "first_max_s": max(first),
        "again_max_s": max(again),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=30_000_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    store = Path(cached_store(args.packets)["path"])
    work = Path(tempfile.mkdtemp(prefix="teiten-bench-web-"))
    port, peer_port = _free_port(), _free_port()
    config = work / "web.toml"
    config.write_text(
        f'[store]\npath = "{store}"\n[listen]\nport = {port}\n'
        "[limits]\nrequests_per_minute = 1000000\nburst = 1000000\ncache_entries = 4096\n"
    )
    log = work / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "teiten.cli", "serve", "--config", str(config)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        peer = subprocess.Popen(
            [sys.executable, "-c", _PEER, str(peer_port)], stdout=out, stderr=out
        )
    base, peer_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
    try:
        _wait(base + "/api/v1/health", server, log)
        _wait(peer_base + "/hello", peer, log)
        paths = requests_for(PERIODS)
        first = asyncio.run(_load(base, paths, args.clients))
        again = asyncio.run(_load(base, paths * args.rounds, args.clients))
        hello = asyncio.run(_load(peer_base, ["/hello"] * len(paths) * args.rounds, args.clients))
        pages = _page_times(base, ["2019Q2", "2019-05", "2019-W20"])
    finally:
        for process in (server, peer):
            process.terminate()
            process.wait(timeout=30)
    results = {
        "store": str(store),
        "packets": args.packets,
        "clients": args.clients,
        "first": first,
        "again": again,
        "peer_hello": hello,
        "pages": pages,
        "targets": {"p95_ms": 1000 * TARGET_P95_S, "page_s": TARGET_PAGE_S},
    }
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "web-results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"teiten serve on {args.packets:,} packets (2019H1 store), {args.clients} clients at once"
    )
    print(f"{'':28}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for label, r in (
        ("API, first (found anew)", first),
        ("API, again (cached)", again),
        ("peer: FastAPI hello", hello),
    ):
        print(
            f"{label:28}{r['requests']:>9}{r['per_second']:>9.0f}{r['p50_ms']:>9.1f}"
            f"{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}"
        )
    print(
        f"overview drawn: first {pages['first_max_s']:.2f} s (worst of {len(pages['periods'])}"
        f" periods), again {pages['again_max_s']:.2f} s"
    )
    checks = {
        "API p95, first": first["p95_ms"] <= 1000 * TARGET_P95_S,
        "API p95, again": again["p95_ms"] <= 1000 * TARGET_P95_S,
        "overview, first": pages["first_max_s"] <= TARGET_PAGE_S,
        "overview, again": pages["again_max_s"] <= TARGET_PAGE_S,
        "no failed request": not (first["failures"] or again["failures"]),
    }
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'} {name}")
    for failure in (first["failures"] + again["failures"])[:5]:
        print(f"  failed: {failure}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
