"""Simulated packets to pcap files: one file per sensor and period, plus ``truth.json``.

Files are classic pcap with microsecond times in the machine's byte order, as
tcpdump writes them by default. Each chunk's records (16-byte header + frame) are laid out by
one compiled pass; the files receive them in a few large writes.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO, Literal

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from teiten.simulate.config import SimulationConfig
from teiten.simulate.generator import LINKTYPES, LinkType, SimulatedChunk, generate_packets
from teiten.simulate.truth import GroundTruth

__all__ = ["Per", "pcap_header", "pcap_records", "simulate_to_pcap"]

Per = Literal["hour", "day", "file"]
_PERIOD_US = {"hour": 3600 * 10**6, "day": 86_400 * 10**6}
_SNAPLEN = 262_144
TRUTH_FILE = "truth.json"


def pcap_header(linktype: int, snaplen: int = _SNAPLEN) -> bytes:
    """The 24-byte pcap file header (v2.4, microseconds, the machine's byte order)."""
    return np.array(
        [(0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)],
        dtype=[
            ("magic", "=u4"), ("major", "=u2"), ("minor", "=u2"), ("zone", "=i4"),
            ("sigfigs", "=u4"), ("snaplen", "=u4"), ("linktype", "=u4"),
        ],
    ).tobytes()  # fmt: skip


@intrinsic
def _copy(typingctx, dst, dst_at, src, src_at, n):  # type: ignore[no-untyped-def]
    """``dst[dst_at : dst_at + n] = src[src_at : src_at + n]`` as one memcpy (uint8 arrays).

    Four times faster than a byte loop for frame-sized copies, and unlike a ctypes
    call to libc it keeps the kernel cacheable.
    """

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        dst_v, dst_at_v, src_v, src_at_v, n_v = args
        d = context.make_array(signature.args[0])(context, builder, dst_v)
        s = context.make_array(signature.args[2])(context, builder, src_v)
        to = builder.gep(d.data, [dst_at_v])
        cgutils.raw_memcpy(builder, to, builder.gep(s.data, [src_at_v]), n_v, 1)
        return context.get_dummy_value()

    return types.void(dst, dst_at, src, src_at, n), codegen


@numba.njit(cache=True, nogil=True)
def _fill_records(out, data, offset, length, ts_us, order):  # type: ignore[no-untyped-def]
    """Records of packets ``order``, back to back: native-order header, then the frame."""
    header = np.empty(16, dtype=np.uint8)
    fields = header.view(np.uint32)
    pos = 0
    for k in range(order.shape[0]):
        i = order[k]
        sec = ts_us[i] // 1_000_000
        fields[0] = sec
        fields[1] = ts_us[i] - sec * 1_000_000
        fields[2] = fields[3] = length[i]
        _copy(out, pos, header, 0, 16)
        _copy(out, pos + 16, data, offset[i], length[i])
        pos += 16 + length[i]


def pcap_records(
    chunk: SimulatedChunk, order: np.ndarray, buffer: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """pcap records (header + frame) of ``chunk``'s packets ``order``, and where each ends.

    Records go into ``buffer`` when it is large enough: reusing one buffer avoids
    first-touch page faults, which cost more than the copying itself.
    """
    batch = chunk.batch
    length = batch.caplen.astype(np.int64)
    ends = np.cumsum(16 + length[order])
    size = int(ends[-1]) if len(ends) else 0
    out = buffer[:size] if buffer is not None and len(buffer) >= size else np.empty(size, np.uint8)
    _fill_records(out, batch.data, batch.offset, length, batch.ts_ns // 1000, order)
    return out, ends


class _Files:
    """The open output files, created lazily and closed once their period is over."""

    def __init__(self, config: SimulationConfig, out_dir: Path, per: Per, header: bytes) -> None:
        self.config, self.out_dir, self.per, self.header = config, out_dir, per, header
        start = config.start
        self.first = (
            start.replace(minute=0, second=0, microsecond=0)
            if per == "hour"
            else start.replace(hour=0, minute=0, second=0, microsecond=0)
        )
        self.first_us = int(self.first.timestamp() * 10**6)
        self.open: dict[tuple[int, int], BinaryIO] = {}

    def periods(self) -> int:
        if self.per == "file":
            return 1
        step = _PERIOD_US[self.per]
        return -(-int((self.config.end - self.first) / timedelta(microseconds=1)) // step)

    def period_of(self, ts_us: np.ndarray) -> np.ndarray:
        if self.per == "file":
            return np.zeros(len(ts_us), dtype=np.int64)
        return (ts_us - self.first_us) // _PERIOD_US[self.per]

    def path(self, sensor: int, period: int) -> Path:
        name = self.config.sensors[sensor].name
        if self.per == "file":
            return self.out_dir / name / f"{name}.pcap"
        begin = self.first + timedelta(microseconds=period * _PERIOD_US[self.per])
        stamp = begin.strftime("%Y%m%dT%H" if self.per == "hour" else "%Y%m%d")
        return self.out_dir / name / f"{name}-{stamp}.pcap"

    def get(self, sensor: int, period: int) -> BinaryIO:
        if (sensor, period) not in self.open:
            path = self.path(sensor, period)
            path.parent.mkdir(parents=True, exist_ok=True)
            f = path.open("wb")
            f.write(self.header)
            self.open[(sensor, period)] = f
        return self.open[(sensor, period)]

    def close_before(self, period: int) -> None:
        for key in [k for k in self.open if k[1] < period]:
            self.open.pop(key).close()

    def close_all(self) -> None:
        self.close_before(2**62)


def simulate_to_pcap(
    config: SimulationConfig,
    out_dir: Path,
    *,
    per: Per = "day",
    linktype: LinkType = "ethernet",
) -> list[Path]:
    """Write the simulation as ``out_dir/SENSOR/SENSOR-PERIOD.pcap`` files and ``truth.json``.

    Every sensor gets a file for every period the simulation touches (empty ones
    too, as a rotating sensor would write). Returns the capture paths, sorted.
    """
    if per not in ("hour", "day", "file"):
        raise ValueError(f"per must be 'hour', 'day' or 'file', not {per!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _Files(config, out_dir, per, pcap_header(LINKTYPES[linktype]))
    truth = GroundTruth(config, linktype)
    n_sensors = len(config.sensors)
    buffer = np.empty(0, dtype=np.uint8)
    try:
        for chunk in generate_packets(config, linktype=linktype):
            truth.add(chunk)
            period = files.period_of(chunk.batch.ts_ns // 1000)
            files.close_before(int(period[0]))
            # Sensor-major order that keeps time order inside each sensor.
            order = np.argsort(chunk.sensor, kind="stable")
            records, ends = pcap_records(chunk, order, buffer)
            if records.base is not buffer and len(records) > len(buffer):
                buffer = records  # keep the larger buffer for the next chunks
            key = chunk.sensor[order].astype(np.int64) * (1 << 40) + period[order]
            cuts = np.flatnonzero(np.diff(key)) + 1
            starts = np.concatenate(([0], cuts))
            stops = np.concatenate((cuts, [len(key)]))
            for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
                sensor, p = int(chunk.sensor[order[a]]), int(period[order[a]])
                lo = int(ends[a - 1]) if a else 0
                files.get(sensor, p).write(memoryview(records[lo : int(ends[b - 1])]))
                truth.add_file(_relative(files.path(sensor, p), out_dir), b - a)
        for sensor in range(n_sensors):  # quiet periods still get their (empty) file
            for p in range(files.periods()):
                if not files.path(sensor, p).exists():
                    files.get(sensor, p)
                    truth.add_file(_relative(files.path(sensor, p), out_dir), 0)
    finally:
        files.close_all()
    report = truth.as_json()
    report["per"] = per
    (out_dir / TRUTH_FILE).write_text(json.dumps(report, indent=1) + "\n")
    return sorted(out_dir / name for name in truth.files)


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()
