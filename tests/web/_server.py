"""A real ``teiten serve`` process for the tests: uvicorn on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from collector._server import free_port


class WebServer:
    """``teiten serve --store STORE`` with a ``web.toml`` of ``settings``
    (``{section: {key: value}}``), over HTTPS with ``tls`` (certificate, key)."""

    def __init__(
        self,
        folder: Path,
        store: Path,
        *,
        tls: tuple[Path, Path] | None = None,
        **settings: dict[str, object],
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.store = store
        self.port = free_port()
        self.tls = tls
        self.log = folder / "web.log"
        self.config = folder / "web.toml"
        listen: dict[str, object] = {"host": "127.0.0.1", "port": self.port}
        if tls:
            listen.update(certfile=str(tls[0]), keyfile=str(tls[1]))
        sections = {"listen": listen, **settings}
        sections.setdefault("store", {})["path"] = str(store)
        lines = []
        for section, keys in sections.items():
            lines.append(f"[{section}]")
            for key, value in keys.items():
                text = str(value).lower() if isinstance(value, bool) else repr(value)
                lines.append(f"{key} = {text.replace(chr(39), chr(34))}")
        self.config.write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> WebServer:
        command = [sys.executable, "-m", "teiten.cli", "serve", "--config", str(self.config)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + timeout
        verify = not self.tls  # the readiness probe only; tests verify TLS themselves
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"teiten serve exited:\n{self.log.read_text()}")
            try:
                health = httpx.get(self.url + "/api/v1/health", timeout=1, verify=verify)
                if health.status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"teiten serve did not come up:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")
