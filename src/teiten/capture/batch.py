"""The unit that flows from a capture reader to the decoder: many packets in one buffer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class PacketBatch:
    """Packets of one capture, as columns over one shared byte buffer.

    Packet ``i`` is ``data[offset[i] : offset[i] + caplen[i]]``; its link-layer
    framing is ``linktype[i]`` (a LINKTYPE_* number, already masked to 16 bits
    and always one that :mod:`teiten.capture.linktypes` supports).
    """

    data: np.ndarray  # uint8, the buffer holding every packet of the batch
    offset: np.ndarray  # int64, start of each packet in ``data``
    caplen: np.ndarray  # uint32, bytes captured
    wirelen: np.ndarray  # uint32, bytes on the wire (original length)
    ts_ns: np.ndarray  # int64, nanoseconds since the Unix epoch (UTC)
    linktype: np.ndarray  # uint16, LINKTYPE_* of each packet
    first_number: int  # 1-based number, in the file, of the batch's first packet

    def __len__(self) -> int:
        return int(self.offset.shape[0])
