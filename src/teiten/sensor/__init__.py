"""The sensor side: a crash-safe spool of wire batches and the uploader that empties it.

spool = Spool(Path("/var/spool/teiten"), max_bytes=10 << 30)
spool.put(encode_body(decoded), len(decoded))
Uploader(spool, "https://collector:8750", "tokyo-1", token).drain()
"""

from teiten.sensor.spool import POLICIES, Spool, SpoolEntry
from teiten.sensor.uploader import Backoff, Uploader, UploadStats

__all__ = ["POLICIES", "Backoff", "Spool", "SpoolEntry", "UploadStats", "Uploader"]
