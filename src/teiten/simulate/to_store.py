"""Simulated packets straight into a store: the rows ingesting the captures would give.

Each generated chunk goes through the same decoder, country/AS tagger and
fingerprints as ``teiten ingest`` (only the file round trip is skipped), so a
store filled this way answers every query exactly as one filled from the
pcaps. One batch is committed per UTC day, recorded in the manifest under a
digest of the configuration and the day: running the same simulation again
adds nothing, and a run cut short keeps its finished days. A store with raw
retention (:mod:`teiten.store.retention`) drops its old raw packets after each
day, and refuses packets of days it dropped (counted as skipped in the day's input).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import blake3
import numpy as np

from teiten.capture.batch import PacketBatch
from teiten.decode import decode_batch
from teiten.enrich import GeoTagger, open_geo
from teiten.fingerprint import TagContext, tag_packets
from teiten.simulate.config import SimulationConfig
from teiten.simulate.generator import LinkType, SimulatedChunk, generate_packets
from teiten.simulate.pcap import write_truth
from teiten.simulate.truth import GENERATOR_VERSION, GroundTruth
from teiten.store import BatchWriter, InputRecord, Store, packets_table
from teiten.store.retention import SKIP_REASON, OldPackets, after_write

__all__ = ["simulate_to_store"]

_NS_PER_DAY = 86_400 * 10**9


def simulate_to_store(
    config: SimulationConfig,
    store: Store,
    *,
    geo: GeoTagger | None = None,
    context: TagContext | None = None,
    linktype: LinkType = "ethernet",
    truth_path: Path | None = None,
) -> GroundTruth:
    """Generate ``config`` into ``store`` (one batch per day) and return its ground truth.

    ``geo`` and ``context`` are what ingest would tag with (default: the offline
    country database, no research list). ``truth_path`` also writes the truth as
    JSON there (as ``truth.json`` beside pcaps).
    """
    geo = geo or open_geo()
    context = context or TagContext()
    truth = GroundTruth(config, linktype)
    day = _Day(store, config, geo, linktype)
    try:
        for chunk in generate_packets(config, linktype=linktype):
            truth.add(chunk)
            days = chunk.batch.ts_ns // _NS_PER_DAY
            cuts = np.flatnonzero(np.diff(days)) + 1
            for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), len(days)], strict=True):
                day.switch(int(days[lo]))
                day.write(chunk, np.arange(lo, hi), geo, context)
        day.switch(None)
    except BaseException:
        day.abort()
        raise
    if truth_path is not None:
        write_truth(truth, truth_path, store=str(store.root))
    return truth


class _Day:
    """The open batch of one UTC day (skipped when the store already has it)."""

    def __init__(
        self, store: Store, config: SimulationConfig, geo: GeoTagger, linktype: str
    ) -> None:
        self.store, self.config, self.geo = store, config, geo
        self.key = json.dumps(
            {"config": config.as_json(), "generator": GENERATOR_VERSION, "linktype": linktype},
            sort_keys=True,
        )
        self.day: int | None = None
        self.writer: BatchWriter | None = None
        self.skipped: Counter[str] = Counter()
        self.old: OldPackets | None = None  # packets before the raw horizon: refused
        self.digest = ""

    def name(self, day: int) -> str:
        scenario = self.config.scenario.name if self.config.scenario else "catalogue"
        stamp = np.datetime64(day, "D").astype(str)
        return f"simulated:{scenario}:seed={self.config.seed}:{stamp}"

    def switch(self, day: int | None) -> None:
        if day == self.day:
            return
        self.commit()
        self.day = day
        if day is None:
            return
        self.digest = "simulated:" + blake3.blake3(f"{self.key}|{day}".encode()).hexdigest()
        if not self.store.manifest.find_inputs(self.digest):
            sensors = ",".join(s.name for s in self.config.sensors)
            self.writer = self.store.writer(sensors, self.geo.database, self.geo.edition)
            self.old = OldPackets.of(self.store)

    def write(
        self, chunk: SimulatedChunk, rows: np.ndarray, geo: GeoTagger, context: TagContext
    ) -> None:
        if self.writer is None:
            return
        sensor = chunk.sensor[rows]
        for k, spec in enumerate(self.config.sensors):
            mine = rows[sensor == k]
            if not len(mine):
                continue
            decoded = decode_batch(_subset(chunk.batch, mine))
            ok = decoded.reason == 0
            if not ok.all():
                self.skipped.update(decoded.skip_counts())
                decoded = decoded.select(ok)
            if self.old is not None and (kept := self.old.kept(decoded.ts_ns)) is not None:
                self.skipped[SKIP_REASON] += int(len(kept) - kept.sum())
                decoded = decoded.select(kept)
            geo_tags = geo.tag(decoded.src)
            tags = tag_packets(decoded, context.for_chunk(geo_tags))
            self.writer.write(packets_table(decoded, spec.name, geo_tags, tags))

    def commit(self) -> None:
        if self.writer is None or self.day is None:
            return
        writer, self.writer = self.writer, None
        skipped = sum(self.skipped.values())
        record = InputRecord(
            self.digest, self.name(self.day), 0, writer.packets, skipped, dict(self.skipped)
        )
        self.skipped = Counter()
        writer.commit([record])
        after_write(self.store)

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
            self.writer = None


def _subset(batch: PacketBatch, rows: np.ndarray) -> PacketBatch:
    """Packets ``rows`` of ``batch`` (sharing its buffer)."""
    return PacketBatch(
        data=batch.data,
        offset=batch.offset[rows],
        caplen=batch.caplen[rows],
        wirelen=batch.wirelen[rows],
        ts_ns=batch.ts_ns[rows],
        linktype=batch.linktype[rows],
        first_number=batch.first_number + int(rows[0]),
    )
