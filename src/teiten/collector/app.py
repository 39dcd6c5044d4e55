"""The collector's HTTP API: ``POST /v1/batches``, ``GET /health``, ``GET /metrics``.

An upload is checked in order — concurrency bound (503), sensor and token (401),
headers (400), size (413), digest and Arrow schema (400), duplicate (200),
destinations inside the sensor's prefixes (422) — and only then handed to the
store writer (201, or 507 when the store cannot be written). Every refusal is a
:class:`Refusal` turned into a response in one place; none stores anything.
Answers and logs name sensors by label and batches by id, never tokens,
prefixes or addresses.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

import teiten
from teiten.collector.config import CollectorConfig
from teiten.collector.metrics import CONTENT_TYPE_LATEST, UNAUTHENTICATED, CollectorMetrics
from teiten.collector.prefixes import PrefixSet
from teiten.collector.registry import RegisteredSensor, Registry
from teiten.collector.writer import Outcome, StoreWriter, UploadedBatch
from teiten.errors import BatchFormatError, Refusal, StoreWriteError, TeitenError
from teiten.store import Manifest
from teiten.store.asn import open_store_geo
from teiten.transport.wire import (
    HEADER_DIGEST,
    HEADER_SENSOR,
    HEADER_SEQ,
    body_digest,
    decode_body,
)

__all__ = ["HEADER_DROPS", "create_app"]

log = logging.getLogger("teiten.collector")

HEADER_DROPS = "X-Teiten-Drops"
_DIGEST = re.compile(r"blake3:[0-9a-f]{64}")
_DRAIN_FACTOR = 4  # refused bodies are read (and discarded) up to this many times the limit


def _refused(refusal: Refusal, retry_after: int) -> JSONResponse:
    """The answer to a refused upload: its status, and the error as JSON."""
    label = {401: "unauthorized", 503: "busy", 507: "error"}.get(refusal.status, "rejected")
    body = {"status": label, "error": refusal.message, **refusal.extra}
    headers = {"Retry-After": str(retry_after)} if refusal.status in (503, 507) else None
    return JSONResponse(body, status_code=refusal.status, headers=headers)


class _Collector:
    """What the routes share: config, registry, writer, metrics, the in-flight count."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.metrics = CollectorMetrics()
        self.registry: Registry | None = None
        self.writer: StoreWriter | None = None
        self.in_flight = 0
        self.started = time.time()
        self._prefixes: dict[tuple[str, tuple[str, ...]], PrefixSet] = {}
        self._manifest_path = config.store / "manifest.sqlite"
        self._readers: dict[int, Manifest] = {}

    def open(self) -> None:
        self.registry = Registry(self.config.store)
        # AS numbers: enrich.geoip_asn when set, else the store's current AS edition (the
        # writer opens it again when an import or `asn use` changes it).
        geo = open_store_geo(self.config.store, self.config.geoip, self.config.geoip_asn)
        reopen = None
        if self.config.geoip_asn is None:
            reopen = functools.partial(open_store_geo, self.config.store, self.config.geoip)
        self.writer = StoreWriter(
            self.config.store,
            geo,
            research_scanners=self.config.research_scanners,
            metrics=self.metrics,
            compact_interval=self.config.compact_interval_seconds,
            compact_min_files=self.config.compact_min_files,
            raw_retention_days=self.config.raw_retention_days,
            reopen_geo=reopen,
        )
        self.writer.start()
        log.info(
            "collector ready: %d registered sensors, geo %s %s",
            len(self.registry.sensors()),
            geo.database,
            geo.edition,
        )

    def close(self) -> None:
        if self.writer is not None:
            self.writer.stop()
            self.writer.geo.close()
        if self.registry is not None:
            self.registry.close()

    def prefixes(self, sensor: RegisteredSensor) -> PrefixSet:
        key = (sensor.name, sensor.prefixes)
        found = self._prefixes.get(key)
        if found is None:
            found = self._prefixes[key] = PrefixSet(sensor.prefixes)
        return found

    def already_stored(self, batch_id: str) -> bool:
        """A quick look before decoding (the writer checks again under the store lock)."""
        ident = threading.get_ident()
        try:
            manifest = self._readers.get(ident)
            if manifest is None:
                manifest = self._readers[ident] = Manifest(self._manifest_path)
            return bool(manifest.find_inputs(batch_id))
        except (sqlite3.Error, TeitenError):
            return False  # the writer's own check decides


def create_app(config: CollectorConfig) -> FastAPI:
    """The collector as an ASGI app (``teiten collector serve`` runs it under uvicorn)."""
    state = _Collector(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(state.open)
        try:
            yield
        finally:
            await run_in_threadpool(state.close)

    app = FastAPI(
        title="teiten collector",
        version=teiten.__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.collector = state

    @app.post("/v1/batches")
    async def upload(request: Request) -> Response:
        if state.in_flight >= config.max_concurrent_requests:
            state.metrics.rejected.labels(UNAUTHENTICATED, "busy").inc()
            busy = Refusal(
                503, "busy", "the collector is at its bound of concurrent uploads; retry later"
            )
            return _refused(busy, config.retry_after_seconds)
        state.in_flight += 1
        state.metrics.in_flight.inc()
        sensor = UNAUTHENTICATED
        try:
            registered = _authenticate(state, request)
            sensor = registered.name
            outcome = await _receive(state, request, registered)
        except Refusal as refusal:
            state.metrics.rejected.labels(sensor, refusal.reason).inc()
            _log_refusal(request, sensor, refusal)
            if refusal.status != 401:
                await _drain(request, config.max_body_bytes * _DRAIN_FACTOR)
            return _refused(refusal, config.retry_after_seconds)
        finally:
            state.in_flight -= 1
            state.metrics.in_flight.dec()
        batch_id = request.headers[HEADER_DIGEST]
        state.metrics.batches.labels(sensor, outcome.status).inc()
        if outcome.status == "duplicate":
            log.info("batch %s from sensor %s: duplicate, acknowledged", batch_id, sensor)
            return JSONResponse({"status": "duplicate", "batch": batch_id}, status_code=200)
        state.metrics.packets.labels(sensor).inc(outcome.packets)
        log.info("batch %s from sensor %s: %d packets stored", batch_id, sensor, outcome.packets)
        return JSONResponse(
            {"status": "stored", "batch": batch_id, "packets": outcome.packets}, status_code=201
        )

    @app.get("/health")
    async def health() -> JSONResponse:
        writer = state.writer
        ok = writer is not None and writer.last_error is None
        body: dict[str, Any] = {
            "status": "ok" if ok else "degraded",
            "version": teiten.__version__,
            "uptime_seconds": round(time.time() - state.started, 1),
            "tls": config.tls,
            "in_flight": state.in_flight,
            "max_concurrent_requests": config.max_concurrent_requests,
            "queued_batches": writer.queued if writer else 0,
        }
        if writer is not None and writer.last_error is not None:
            body["last_error"] = writer.last_error
            body["last_error_at"] = writer.last_error_at
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return app


def _log_refusal(request: Request, sensor: str, refusal: Refusal) -> None:
    """One line per refused upload: status, reason, sensor label, batch id (no secrets)."""
    if sensor == UNAUTHENTICATED:
        sensor = f"{request.headers.get(HEADER_SENSOR, '')[:64]!r} (not authenticated)"
    batch = request.headers.get(HEADER_DIGEST, "")[:71] or "-"
    log.log(
        logging.ERROR if refusal.status >= 500 else logging.WARNING,
        "refused batch %s from sensor %s: %d %s: %s",
        batch,
        sensor,
        refusal.status,
        refusal.reason,
        refusal.message,
    )


def _authenticate(state: _Collector, request: Request) -> RegisteredSensor:
    """The sensor the request comes from, or a 401 (the same for unknown and wrong token)."""
    label = request.headers.get(HEADER_SENSOR, "")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    assert state.registry is not None
    sensor = None
    if label and scheme.lower() == "bearer" and token:
        sensor = state.registry.authenticate(label, token.strip())
    if sensor is None:
        raise Refusal(401, "unauthorized", "unknown sensor or wrong token")
    return sensor


def _header_int(request: Request, name: str, *, required: bool) -> int | None:
    text = request.headers.get(name)
    if text is None:
        if required:
            raise Refusal(400, "malformed", f"missing header {name}")
        return None
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise Refusal(400, "malformed", f"header {name} must be a non-negative integer")
    return value


async def _receive(state: _Collector, request: Request, sensor: RegisteredSensor) -> Outcome:
    config, metrics = state.config, state.metrics
    metrics.last_seen.labels(sensor.name).set(time.time())
    digest = request.headers.get(HEADER_DIGEST, "")
    if not _DIGEST.fullmatch(digest):
        raise Refusal(400, "malformed", f"header {HEADER_DIGEST} must be blake3:<64 hex digits>")
    seq = _header_int(request, HEADER_SEQ, required=True)
    drops = _header_int(request, HEADER_DROPS, required=False)
    if drops is not None:
        metrics.drops.labels(sensor.name).set(drops)
    body = await _read_body(request, config.max_body_bytes)
    metrics.bytes.labels(sensor.name).inc(len(body))
    batch = await run_in_threadpool(_validate, state, sensor, digest, seq or 0, body)
    if batch is None:
        return Outcome("duplicate", 0)
    assert state.writer is not None
    try:
        return await asyncio.wrap_future(state.writer.submit(batch))
    except StoreWriteError as exc:
        raise Refusal(507, "disk_full" if exc.disk_full else "write_failed", str(exc)) from exc


def _validate(
    state: _Collector, sensor: RegisteredSensor, digest: str, seq: int, body: bytes
) -> UploadedBatch | None:
    """The batch to store, or None when it is stored already; raise :class:`Refusal`."""
    if body_digest(body) != digest:
        raise Refusal(
            400, "digest_mismatch", f"the body's digest differs from {HEADER_DIGEST}; resend it"
        )
    if state.already_stored(digest):
        return None
    try:
        decoded = decode_body(body, max_rows=state.config.max_batch_packets)
    except BatchFormatError as exc:
        raise Refusal(400, "malformed", str(exc)) from exc
    outside = state.prefixes(sensor).outside_count(decoded.dst)
    if outside:
        raise Refusal(
            422,
            "outside_prefixes",
            f"{outside} of {len(decoded)} packets have destinations outside the prefixes "
            f"registered for sensor {sensor.name}; nothing was stored",
            {"outside": outside},
        )
    return UploadedBatch(digest, sensor.name, seq, len(body), decoded)


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("Content-Length")
    too_large = Refusal(413, "too_large", f"the body is over the limit of {limit} bytes")
    if length is not None and length.isdigit() and int(length) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


async def _drain(request: Request, limit: int) -> None:
    """Read what is left of a refused body (up to ``limit``) so the client sees the answer."""
    read = 0
    try:
        async for chunk in request.stream():
            read += len(chunk)
            if read > limit:
                return
    except Exception:  # the stream was consumed already or the client went away
        return
