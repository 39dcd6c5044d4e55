"""The collector's Prometheus metrics (``GET /metrics``).

Labels are sensor labels and fixed reason names only — never tokens, prefixes or
addresses. Rejections before a sensor is authenticated carry ``sensor="-"``, so
an unauthenticated client cannot create label values.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "UNAUTHENTICATED", "CollectorMetrics"]

UNAUTHENTICATED = "-"


class CollectorMetrics:
    """One registry per app, so several collectors (tests) never share counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.batches = Counter(
            "teiten_collector_batches",
            "Batches answered 200/201, by sensor and result (stored, duplicate).",
            ["sensor", "result"],
            registry=r,
        )
        self.rejected = Counter(
            "teiten_collector_batches_rejected",
            "Batches refused, by sensor ('-' before authentication) and reason.",
            ["sensor", "reason"],
            registry=r,
        )
        self.packets = Counter(
            "teiten_collector_packets_stored",
            "Packets stored, by sensor.",
            ["sensor"],
            registry=r,
        )
        self.bytes = Counter(
            "teiten_collector_body_bytes",
            "Batch body bytes received from authenticated sensors.",
            ["sensor"],
            registry=r,
        )
        self.last_seen = Gauge(
            "teiten_collector_sensor_last_seen_timestamp_seconds",
            "Unix time of the sensor's latest authenticated upload.",
            ["sensor"],
            registry=r,
        )
        self.drops = Gauge(
            "teiten_collector_sensor_reported_drops",
            "The sensor's cumulative kernel-drop counter, as it last reported it.",
            ["sensor"],
            registry=r,
        )
        self.in_flight = Gauge(
            "teiten_collector_requests_in_flight",
            "Batch uploads being received or stored now.",
            registry=r,
        )
        self.queued = Gauge(
            "teiten_collector_batches_queued",
            "Validated batches waiting for the store writer.",
            registry=r,
        )
        self.commit_seconds = Histogram(
            "teiten_collector_commit_seconds",
            "Time to tag, write and commit one group of batches.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.compactions = Counter(
            "teiten_collector_compactions",
            "Compaction runs of the store, by result (done, failed).",
            ["result"],
            registry=r,
        )
        self.compacted_files = Counter(
            "teiten_collector_compacted_files",
            "Parquet files merged away by compaction.",
            registry=r,
        )
        self.write_failures = Counter(
            "teiten_collector_write_failures",
            "Groups of batches that could not be written (disk full, I/O error).",
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
