"""A running sensor: live capture → decode → prefix check → spool, and the uploader.

The capture loop and the uploader run side by side (the uploader in a thread):
a collector that is down only makes the spool grow, within its bound. Kernel
drop counters are read every loop and sent with each upload.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass

from teiten.decode import DecodedPackets, decode_batch
from teiten.sensor.config import SensorConfig
from teiten.sensor.files import concat_decoded
from teiten.sensor.live import LiveCapture, in_prefixes
from teiten.sensor.rotate import PcapRotator
from teiten.sensor.spool import Spool
from teiten.sensor.status import StatusServer
from teiten.sensor.uploader import Uploader
from teiten.transport import encode_body

__all__ = ["SensorCounters", "run_sensor"]

log = logging.getLogger("teiten.sensor")


@dataclass
class SensorCounters:
    captured: int = 0  # frames the ring handed over
    spooled: int = 0  # packets to our prefixes, spooled
    outside: int = 0  # decoded packets to other addresses (not ours), left out
    undecodable: int = 0
    kernel_drops: int = 0


def run_sensor(
    config: SensorConfig, stop: threading.Event, *, upload: bool = True
) -> SensorCounters:
    """Capture on ``config.interface`` until ``stop`` is set; spool and upload."""
    if not config.interface or not config.prefixes:
        raise ValueError("capture.interface and capture.prefixes are needed to capture")
    spool = Spool(config.spool, max_bytes=config.spool_max_bytes, policy=config.spool_policy)
    counters = SensorCounters()
    uploader = thread = None
    if upload:
        uploader = Uploader(
            spool, config.url, config.name, config.token(),
            ca_file=config.ca_file, timeout=config.timeout_seconds,
        )  # fmt: skip
        thread = threading.Thread(target=uploader.drain, args=(stop,), kwargs={"idle": 0.5})
        thread.start()
    capture = LiveCapture(config.interface, list(config.prefixes))
    pcaps = None
    if config.pcap_path is not None:
        pcaps = PcapRotator(
            config.pcap_path, config.name, max_bytes=config.pcap_rotate_bytes,
            max_seconds=config.pcap_rotate_seconds, keep=config.pcap_keep,
        )  # fmt: skip
    status = None
    if config.metrics_port is not None:

        def snapshot() -> dict[str, object]:
            entries = spool.entries()
            stats = uploader.stats if uploader is not None else None
            return {
                **asdict(counters),
                "spool_batches": len(entries),
                "spool_bytes": sum(e.size for e in entries),
                "spool_dropped_batches": spool.dropped_batches,
                "sent": stats.sent + stats.duplicates if stats else 0,
                "rejected": stats.rejected if stats else 0,
                "last_ack": stats.last_ack if stats else None,
            }

        status = StatusServer(config.metrics_host, config.metrics_port, config.name, snapshot)
        status.start()
    pending: list[DecodedPackets] = []
    count, last = 0, time.monotonic()

    def flush() -> None:
        nonlocal pending, count, last
        if pending:
            decoded = concat_decoded(pending)
            spool.put(encode_body(decoded), len(decoded))
            counters.spooled += len(decoded)
        pending, count, last = [], 0, time.monotonic()

    log.info("sensor %s capturing on its interface", config.name)
    try:
        while not stop.is_set():
            for batch in capture.batches():
                counters.captured += len(batch)
                if pcaps is not None:
                    pcaps.write(batch)
                decoded = decode_batch(batch)
                ok = decoded.reason == 0
                counters.undecodable += int((~ok).sum())
                decoded = decoded.select(ok)
                mine = in_prefixes(decoded.dst, list(config.prefixes))
                counters.outside += int((~mine).sum())
                if mine.any():
                    pending.append(decoded.select(mine))
                    count += int(mine.sum())
                if count >= config.batch_packets:
                    flush()
            capture.statistics()
            counters.kernel_drops = capture.drops
            if uploader is not None:
                uploader.drops = capture.drops
            if time.monotonic() - last >= config.batch_seconds:
                flush()
        flush()
    finally:
        capture.close()
        if pcaps is not None:
            pcaps.close()
        if status is not None:
            status.stop()
        if thread is not None and uploader is not None:
            stop.set()
            thread.join()
            uploader.close()
    return counters
