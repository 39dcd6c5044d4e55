"""Sending spooled batches to the collector until each is acknowledged.

A batch leaves the spool only on 201 (stored) or 200 (already stored: a retry of
a batch whose answer was lost). 400, 413 and 422 are final refusals: the batch
moves to ``rejected/`` with the reason. Anything else — 401, 5xx, 503, a timeout,
a refused connection — is retried with exponential backoff and full jitter, so
a collector that is down or restarting loses nothing. The token is sent as a
bearer header and never logged.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from teiten.sensor.spool import Spool, SpoolEntry
from teiten.transport.wire import HEADER_DIGEST, HEADER_SENSOR, HEADER_SEQ, WIRE_CONTENT_TYPE

__all__ = ["Backoff", "UploadStats", "Uploader"]

log = logging.getLogger("teiten.sensor")

_FINAL = {400, 413, 422}


@dataclass
class Backoff:
    """Exponential backoff with full jitter: a random wait in [0, min(cap, base·2^n)]."""

    base: float = 0.5
    cap: float = 60.0
    failures: int = 0
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self) -> float:
        return min(self.cap, self.base * 2 ** min(self.failures, 30))

    def next_wait(self) -> float:
        wait = self.rng.uniform(0, self.ceiling())
        self.failures += 1
        return wait

    def reset(self) -> None:
        self.failures = 0


@dataclass
class UploadStats:
    sent: int = 0
    duplicates: int = 0
    rejected: int = 0
    retries: int = 0
    last_ack: float | None = None


class Uploader:
    """Uploads the spool's batches, oldest first, to ``url`` (the collector's base URL)."""

    def __init__(
        self,
        spool: Spool,
        url: str,
        sensor: str,
        token: str,
        *,
        ca_file: Path | None = None,
        timeout: float = 30.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.spool = spool
        self.endpoint = url.rstrip("/") + "/v1/batches"
        self.sensor = sensor
        self._token = token
        self.backoff = backoff or Backoff()
        self.stats = UploadStats()
        self.drops = 0  # the sensor's cumulative kernel drops, reported with each batch
        verify: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
        )
        self._client = httpx.Client(timeout=timeout, verify=verify)

    def close(self) -> None:
        self._client.close()

    def send(self, entry: SpoolEntry) -> bool:
        """Try ``entry`` once; True when it left the spool (acknowledged or refused)."""
        body = entry.path.read_bytes()
        headers = {
            "Authorization": f"Bearer {self._token}",
            HEADER_SENSOR: self.sensor,
            HEADER_DIGEST: entry.digest,
            HEADER_SEQ: str(entry.seq),
            "X-Teiten-Drops": str(self.drops),
            "Content-Type": WIRE_CONTENT_TYPE,
        }
        try:
            answer = self._client.post(self.endpoint, content=body, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("upload of batch %d failed (%s); will retry", entry.seq, type(exc).__name__)
            return False
        if answer.status_code in (200, 201):
            self.spool.done(entry)
            self.stats.last_ack = time.time()
            if answer.status_code == 200:
                self.stats.duplicates += 1
            else:
                self.stats.sent += 1
            return True
        if answer.status_code in _FINAL:
            reason = f"collector answered {answer.status_code}: {_error(answer)}"
            self.spool.reject(entry, reason)
            self.stats.rejected += 1
            return True
        if answer.status_code == 401:
            log.error("the collector refused this sensor's credentials (401); check the token")
        else:
            log.warning(
                "collector answered %d for batch %d; will retry", answer.status_code, entry.seq
            )
        return False

    def drain(self, stop: threading.Event | None = None, *, idle: float | None = None) -> None:
        """Send until the spool is empty (``idle`` None) or, with ``idle`` seconds, forever
        (waiting that long when empty) until ``stop`` is set."""
        stop = stop or threading.Event()
        while not stop.is_set():
            entries = self.spool.entries()
            if not entries:
                if idle is None:
                    return
                stop.wait(idle)
                continue
            if self.send(entries[0]):
                self.backoff.reset()
                continue
            self.stats.retries += 1
            stop.wait(self.backoff.next_wait())


def _error(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("error", answer.text))[:500]
    except ValueError:
        return answer.text[:500]
