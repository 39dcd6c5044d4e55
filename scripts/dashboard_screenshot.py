"""The README's dashboard screenshot: `teiten serve` on the demo store, shot by chromium.

    python scripts/dashboard_screenshot.py [--store demo-output/store] [--out docs/images/…]

Run `make demo` first (it builds the store). The overview of the demo's quarter is
served on a free loopback port and photographed by Debian's headless chromium once its
charts are drawn (a virtual-time budget lets the page's scripts finish).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from teiten.demo import DEMO_PERIOD
from teiten.report.pdf import find_chromium

ROOT = Path(__file__).resolve().parents[1]
_CHROMIUM = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1280,1000", "--virtual-time-budget=15000",
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=ROOT / "demo-output" / "store")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/dashboard-overview.png")
    parser.add_argument("--lang", default="en")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "teiten.cli", "serve", "--store", str(args.store)]
    server = subprocess.Popen([*command, "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        page = f"{url}/?period={DEMO_PERIOD}&lang={args.lang}"
        httpx.get(page, timeout=120)  # computed once, before the shot's time budget runs
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shot = [*_CHROMIUM, f"--screenshot={args.out}", page]
        subprocess.run(
            [find_chromium(), *shot],
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(args.out)


if __name__ == "__main__":
    main()
