"""A real collector process for the tests: uvicorn in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyarrow.dataset as ds

from teiten.collector import Registry
from teiten.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CollectorServer:
    """``teiten collector serve`` on ``store`` with the given ``[limits]``."""

    def __init__(
        self,
        folder: Path,
        store: Path | None = None,
        *,
        tls: tuple[Path, Path] | None = None,
        **limits: int,
    ) -> None:
        self.folder = folder
        self.store = store or folder / "store"
        self.port = free_port()
        self.tls = tls
        self.log = folder / "collector.log"
        self.config = folder / "collector.toml"
        lines = ["[listen]", 'host = "127.0.0.1"', f"port = {self.port}"]
        if tls:
            lines += [f'certfile = "{tls[0]}"', f'keyfile = "{tls[1]}"']
        lines += ["[store]", f'path = "{self.store}"', "[limits]"]
        lines += [f"{k} = {v}" for k, v in limits.items()]
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def register(self, name: str, prefixes: list[str]) -> str:
        """Register a sensor (as `teiten sensors add` does) and return its token."""
        store = Store(self.store)
        registry = Registry(store.root)
        try:
            return registry.add(store, name, prefixes, replace=True)
        finally:
            registry.close()
            store.close()

    def start(self, timeout: float = 60.0) -> CollectorServer:
        command = [sys.executable, "-m", "teiten.cli", "collector", "serve"]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*command, "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        verify = not self.tls  # the readiness probe only; tests verify TLS themselves
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the collector exited:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/health", timeout=1, verify=verify).status_code:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the collector did not come up:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM and wait (uvicorn stores queued batches, then exits)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def store_state(store: Path) -> tuple[list[str], int]:
    """The store's visible Parquet files and its packet count."""
    files = sorted(str(p.relative_to(store)) for p in store.glob("packets/*/*.parquet"))
    if not files:
        return files, 0
    return files, ds.dataset([str(store / f) for f in files], format="parquet").count_rows()
