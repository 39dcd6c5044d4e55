"""The sensor's own small HTTP endpoint: ``GET /health`` (JSON) and ``GET /metrics``.

Served on loopback by default (``[metrics] listen``); the numbers are read from the
running capture loop, spool and uploader when asked. Labels carry the sensor's
label only, never its addresses.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StatusServer", "prometheus_text"]


def prometheus_text(sensor: str, values: dict[str, tuple[str, str, float]]) -> str:
    """Prometheus exposition text of ``{name: (type, help, value)}`` for ``sensor``."""
    lines = []
    for name, (kind, help_text, value) in values.items():
        metric = f"teiten_sensor_{name}"
        lines += [f"# HELP {metric} {help_text}", f"# TYPE {metric} {kind}"]
        lines.append(f'{metric}{{sensor="{sensor}"}} {value}')
    return "\n".join(lines) + "\n"


class StatusServer:
    """``/health`` and ``/metrics`` from ``snapshot()`` (a dict of current numbers)."""

    def __init__(self, host: str, port: int, sensor: str, snapshot: Callable[[], dict[str, Any]]):
        self.sensor = sensor
        self.snapshot = snapshot
        self.started = time.time()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                numbers = outer.snapshot()
                if self.path == "/health":
                    body = json.dumps({"status": "ok", "sensor": outer.sensor, **numbers})
                    self._send(200, "application/json", body)
                elif self.path == "/metrics":
                    self._send(200, "text/plain; version=0.0.4", outer.metrics(numbers))
                else:
                    self._send(404, "application/json", '{"error": "not found"}')

            def _send(self, status: int, kind: str, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:  # no access log: it would print addresses
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> StatusServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def metrics(self, n: dict[str, Any]) -> str:
        values = {name: (kind, text, n[key] or 0) for name, kind, text, key in _METRICS}
        return prometheus_text(self.sensor, values)


# metric name, type, help, snapshot key
_METRICS = [
    ("frames_captured_total", "counter", "Frames the capture ring handed over.", "captured"),
    ("packets_spooled_total", "counter", "Packets to our prefixes spooled.", "spooled"),
    ("packets_outside_total", "counter", "Packets to other addresses, left out.", "outside"),
    ("kernel_drops_total", "counter", "Packets the kernel dropped (ring full).", "kernel_drops"),
    ("spool_batches", "gauge", "Batches waiting in the spool.", "spool_batches"),
    ("spool_bytes", "gauge", "Bytes waiting in the spool.", "spool_bytes"),
    ("spool_dropped_batches_total", "counter", "Batches dropped by a full spool.",
     "spool_dropped_batches"),
    ("batches_sent_total", "counter", "Batches the collector stored.", "sent"),
    ("batches_rejected_total", "counter", "Batches the collector refused for good.", "rejected"),
    ("last_ack_timestamp_seconds", "gauge", "Unix time of the last acknowledgement.", "last_ack"),
]  # fmt: skip
