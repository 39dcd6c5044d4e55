"""Sensor declarations: how many addresses each sensor monitors (the darknet's size).

Internet-wide rate estimates scale what a darknet saw by ``2^32 / size``, so the
size must be known. A sensor is declared with an address count or with its
prefixes; only the resulting counts are stored (IPv4 addresses, IPv6 prefixes),
never the prefixes themselves, so no output can ever reveal where a sensor sits.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from teiten.errors import OptionError
from teiten.store.manifest import SensorRecord

if TYPE_CHECKING:
    from teiten.store.dataset import Store

__all__ = ["IPV4_SPACE", "LABEL", "declaration", "declare_sensor", "declared_sensors"]

IPV4_SPACE = 1 << 32
# A sensor's name (and a web token's): a letter or digit, then up to 63 of them, ".", "_", "-".
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def declaration(
    name: str, *, addresses: int | None = None, prefixes: Iterable[str] = ()
) -> SensorRecord:
    """A sensor's size from an IPv4 address count and/or CIDR prefixes (counts only).

    Overlapping IPv4 prefixes are merged first, so each address counts once. IPv6
    prefixes are counted as prefixes, those inside another declared one not
    counted (their size does not enter IPv4 rate estimates). Raises
    :class:`OptionError` on a bad name, count or prefix.
    """
    name = name.strip()
    if not name:
        raise OptionError(
            "a sensor needs a name (the --sensor label its captures were ingested with)"
        )
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for text in prefixes:
        try:
            net = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError as exc:
            raise OptionError(f"--prefix {text!r} is not a CIDR prefix: {exc}") from exc
        (v4 if net.version == 4 else v6).append(net)  # type: ignore[arg-type]
    if addresses is not None and v4:
        raise OptionError(
            "give the IPv4 size either as --addresses N or as IPv4 --prefix CIDRs, not both"
        )
    if addresses is None and not v4 and not v6:
        raise OptionError("declare a sensor with --addresses N or at least one --prefix CIDR")
    if addresses is not None and not 0 < addresses <= IPV4_SPACE:
        raise OptionError(f"--addresses must be between 1 and 2^32, not {addresses}")
    ipv4 = addresses if addresses is not None else 0
    ipv4 += sum(n.num_addresses for n in ipaddress.collapse_addresses(v4))
    unique6 = set(v6)
    ipv6 = sum(1 for n in unique6 if not any(n != o and n.subnet_of(o) for o in unique6))
    return SensorRecord(name, ipv4, ipv6, time.time())


def declare_sensor(
    store: Store, name: str, *, addresses: int | None = None, prefixes: Iterable[str] = ()
) -> SensorRecord:
    """Record a sensor's size in the store's manifest (replacing an earlier declaration)."""
    record = declaration(name, addresses=addresses, prefixes=prefixes)
    store.manifest.declare_sensor(record)
    return record


def declared_sensors(store: Store) -> dict[str, SensorRecord]:
    """Declared sensors by name."""
    return {s.name: s for s in store.manifest.sensors()}
