"""What crosses the network between a sensor and the collector.

One format (:mod:`teiten.transport.wire`): a batch of decoded packets as an
Arrow IPC stream, named by its BLAKE3 digest, sent with a per-sensor bearer
token over HTTP(S). The sensor (:mod:`teiten.sensor`) writes and uploads it;
the collector (:mod:`teiten.collector`) checks and stores it exactly once.
"""

from teiten.errors import BatchFormatError
from teiten.transport.wire import (
    HEADER_DIGEST,
    HEADER_SENSOR,
    HEADER_SEQ,
    WIRE_CONTENT_TYPE,
    WIRE_VERSION,
    body_digest,
    decode_body,
    encode_body,
)

__all__ = [
    "HEADER_DIGEST",
    "HEADER_SENSOR",
    "HEADER_SEQ",
    "WIRE_CONTENT_TYPE",
    "WIRE_VERSION",
    "BatchFormatError",
    "body_digest",
    "decode_body",
    "encode_body",
]
