"""The darknet's size in a period: how many IPv4 addresses the observing sensors monitor.

A scanner probing the IPv4 space uniformly at ``r`` packets/s sends a darknet of
``size`` addresses ``r × size / 2^32`` packets/s, so Internet-wide rates are
estimated as ``observed × 2^32 / size`` (the same holds for DoS backscatter,
which victims send to uniformly spoofed addresses). The size is the sum over
the sensors that saw any packet in the period of

* the sensor's **declared** IPv4 address count (``teiten sensors declare``), or
* when it has none, the number of distinct destinations it **observed** in the
  period — a lower bound of its size (unused addresses nobody probed are not
  seen), so rates estimated from it are upper bounds.

The scaling multiplies every packet and every departure from uniform targeting or
spoofing by ``2^32 / size``: Moore et al. extrapolated DoS rates from a /8
(× 256). :func:`estimate_supported` is the rule a public report follows before it
prints an Internet-wide estimate: a darknet of at least ``ESTIMATE_MIN_SIZE``
addresses (a /16, × 65,536) whose size is declared, not merely observed.

Only counts leave this module: never a sensor's addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from teiten.store import queries

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = ["ESTIMATE_MIN_SIZE", "Darknet", "darknet_size", "estimate_supported"]

ESTIMATE_MIN_SIZE = 1 << 16  # a /16: Internet-wide rates are scaled up at most 65,536 times


@dataclass(frozen=True)
class Darknet:
    """IPv4 addresses monitored in a period, and where the number comes from."""

    size: int
    source: str  # "declared" | "observed" | "mixed" | "none"
    sensors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "darknet_size_source": self.source, "sensors": self.sensors}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Darknet:
        return cls(int(data["size"]), str(data["darknet_size_source"]), list(data["sensors"]))


def darknet_size(engine: Engine, first: date, end: date) -> Darknet:
    """The darknet of the sensors with packets in days ``first`` … ``end`` (exclusive)."""
    declared = engine.declared_sensors()
    rows = engine.rows(*queries.darknet.observed_sensors(first, end))
    sensors = []
    for r in rows:
        record = declared.get(r["sensor"])
        if record is not None and record.ipv4_addresses > 0:
            sensors.append(
                {"sensor": r["sensor"], "addresses": record.ipv4_addresses, "source": "declared"}
            )
        else:
            sensors.append(
                {"sensor": r["sensor"], "addresses": int(r["observed"]), "source": "observed"}
            )
    kinds = {s["source"] for s in sensors}
    source = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "none")
    return Darknet(sum(s["addresses"] for s in sensors), source, sensors)


def estimate_supported(darknet: Darknet) -> bool:
    """Whether ``darknet`` supports Internet-wide rate estimates (see the module's rule)."""
    return darknet.source == "declared" and darknet.size >= ESTIMATE_MIN_SIZE
