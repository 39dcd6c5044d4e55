"""Who sent what: one row per source in a period, and one source's whole history.

Each row says where a source sits (country, AS), when it was first and last
seen, how many packets it sent, which ports it hit (most-hit first) and which
fingerprints its packets matched (``tags``: the labels of every bit set on any
of its packets, see :mod:`teiten.fingerprint`). Ports read ``23/tcp``; ICMP
reads ``icmp type 8``; other protocols by name.

Source addresses are shown (they are scanners and victims, not ours); an
address that is also a destination in the period is a sensor's and is
withheld, counted only (``withheld_sensor_sources``). ``source_history`` refuses
sensor addresses outright.

``sources`` and ``source_history`` read the ``keys`` rollup (whose rows per source, port,
tags and day add up to the packets'), so their cost follows the sources, not the
packets. ``source_history`` answers for days whose raw packets raw retention dropped
(:mod:`teiten.store.retention`) too; ``sources`` still tells IPv6 sensor addresses from
the raw packets (the ``dsts`` rollup lists IPv4 destinations only), so its command
refuses a period reaching before ``raw_since``. ``source_history``'s scan events and DoS
attacks need raw packets and cover the days from ``raw_since`` on.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from teiten.analyze.darknet import darknet_size
from teiten.analyze.dos import DosParams, extract_attacks
from teiten.analyze.events import Window, to_rows
from teiten.analyze.periods import Period
from teiten.analyze.rankings import TRAFFIC, one_of, parse_port, port_text, source_networks
from teiten.analyze.scans import ScanParams, extract_scans
from teiten.enrich import protocol_name
from teiten.enrich.addresses import network_spans
from teiten.errors import OptionError, TeitenError
from teiten.store import queries
from teiten.store.timestamps import iso_ns

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "SourceFilters",
    "SourcesReport",
    "address_bytes",
    "address_text",
    "source_history",
    "sources",
]

TOP_PORTS = 10  # ports listed per source
_IPV4_MAPPED = bytes(10) + b"\xff\xff"  # ::ffff:0:0/96
_ICMP = (1, 58)


def address_bytes(text: str) -> bytes:
    """The store's 16-byte form of an address (IPv4 as ``::ffff:a.b.c.d``)."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError as exc:
        raise OptionError(f"{text!r} is not an IPv4 or IPv6 address") from exc
    if ip.version == 4:
        return ipaddress.IPv6Address(f"::ffff:{ip}").packed
    return ip.packed


def address_text(value: bytes) -> str:
    """The text of a 16-byte stored address (IPv4-mapped ones as dotted quads)."""
    value = bytes(value)
    if value[:12] == _IPV4_MAPPED:
        return socket.inet_ntoa(value[12:])
    return str(ipaddress.IPv6Address(value))


def port_label(proto: int, port: int | None) -> str:
    """``23/tcp``, ``icmp type 8``, or the protocol's name when it has no ports."""
    name = protocol_name(proto)
    if proto in _ICMP:
        return name if port is None else f"{name} type {port}"
    return name if port is None else f"{port}/{name}"


@dataclass(frozen=True)
class SourceFilters:
    """Which sources to list (all given filters must hold).

    ``country`` is a code or a name (``"Japan"``, ``"日本"``), kept as the code; ``asns``
    and ``prefixes`` (CIDR) as :class:`~teiten.analyze.rankings.Filters` keeps them.
    """

    tag: str | None = None  # any of its packets carries this fingerprint
    country: str | None = None
    port: str | None = None  # it hit this port, e.g. "23/tcp"
    traffic: str = "probe"  # which packets count: probe, backscatter, all
    asns: tuple[int, ...] = ()  # it is in one of these ASes
    prefixes: tuple[str, ...] = ()  # it is in one of these networks

    def __post_init__(self) -> None:
        from teiten.enrich.countries import country_code

        if self.country is not None:
            object.__setattr__(self, "country", country_code(self.country))
        asns, prefixes = source_networks(self.asns, self.prefixes)
        object.__setattr__(self, "asns", asns)
        object.__setattr__(self, "prefixes", prefixes)

    def as_json(self) -> dict[str, Any]:
        """The filters given, as applied (``traffic`` always: it has a default)."""
        port = port_text(self.port) if self.port else None
        given = {
            "tag": self.tag,
            "country": self.country,
            "port": port,
            "asns": list(self.asns),
            "prefixes": list(self.prefixes),
        }
        return {name: value for name, value in given.items() if value} | {"traffic": self.traffic}


@dataclass
class SourcesReport:
    """Sources of a period, most packets first."""

    period: Period
    filters: SourceFilters
    total: dict[str, int]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "period": self.period.as_json(),
            "filters": self.filters.as_json(),
            "total": self.total,
            "rows": self.rows,
        }


def sources(
    engine: Engine, period: Period, filters: SourceFilters | None = None, *, limit: int = 20
) -> SourcesReport:
    """The sources of ``period`` matching ``filters``, most packets first."""
    from teiten.fingerprint import tag_mask

    filters = filters or SourceFilters()
    one_of(filters.traffic, TRAFFIC, "traffic kind")
    mask = tag_mask([filters.tag], "--tag") if filters.tag else None
    proto, port = parse_port(filters.port) if filters.port else (None, None)
    statement = queries.sources.period_sources(
        engine.dialect,
        period.start,
        period.end,
        where=queries.filters.where(
            kind=None if filters.traffic == "all" else filters.traffic,
            country=filters.country,
            asns=filters.asns,
            networks=network_spans(filters.prefixes),
        ),
        tag_mask=mask,
        port=port,
        proto=proto,
        top=TOP_PORTS,
        limit=limit,
    )
    found = engine.table(*statement).to_pylist()
    rows = [_source_row(r) for r in found if not r["is_sensor"]][:limit]
    total = {
        "sources": int(found[0]["total_sources"]) if found else 0,
        "packets": int(found[0]["total_packets"] or 0) if found else 0,
        "withheld_sensor_sources": int(found[0]["withheld"]) if found else 0,
    }
    return SourcesReport(period, filters, total, rows)


def _source_row(r: dict[str, Any]) -> dict[str, Any]:
    from teiten.fingerprint import tag_labels

    return {
        "source": address_text(r["src"]),
        "country": r["country"],
        "asn": r["asn"],
        "first_seen": iso_ns(r["first_seen"]),
        "last_seen": iso_ns(r["last_seen"]),
        "packets": int(r["packets"]),
        "ports": [port_label(p["proto"], p["port"]) for p in r["ports"]],
        "tags": tag_labels(int(r["tag_bits"])),
    }


def source_history(
    engine: Engine,
    address: str,
    *,
    scan_params: ScanParams | None = None,
    dos_params: DosParams | None = None,
) -> dict[str, Any]:
    """Everything the store holds about one source: per day, and its scans and attacks.

    The days come from the ``keys`` rollup (every day, also those whose raw packets
    raw retention dropped). Scan events and DoS attacks are computed for this source
    alone from its raw packets, over the days it was seen from ``raw_since`` (the first
    day whose raw packets are kept; None: every day's are) on, with the darknet size of
    those days. A sensor's own address is refused.
    """
    from teiten.fingerprint import tag_labels
    from teiten.store.retention import raw_since as raw_horizon

    src = address_bytes(address)
    text = address_text(src)
    since = raw_horizon(engine.store)
    (seen_as_destination,) = engine.rows(*queries.sources.seen_as_destination(src))
    if not seen_as_destination["hit"] and since is not None:  # dropped days: IPv4 only
        (seen_as_destination,) = engine.rows(*queries.sources.dropped_destination(src, since))
    if seen_as_destination["hit"]:
        raise TeitenError(
            f"{text} is one of the sensors' monitored addresses; teiten does not report on them"
        )
    days = engine.table(*queries.sources.history(engine.dialect, src, top=TOP_PORTS)).to_pylist()
    history: dict[str, Any] = {
        "source": text,
        "country": None,
        "asn": None,
        "first_seen": None,
        "last_seen": None,
        "packets": 0,
        "tags": [],
        "days": [],
        "scans": [],
        "dos_attacks": [],
        "darknet": None,  # the darknet its events were rated with (IPv4 sources only)
        "raw_since": since.isoformat() if since else None,  # its events cover days from then
    }
    if not days:
        return history
    bits = 0
    for d in days:
        bits |= int(d["tag_bits"])
        history["days"].append(
            {
                "day": d["day"].isoformat(),
                "packets": int(d["packets"]),
                "probe": int(d["probe"]),
                "backscatter": int(d["backscatter"]),
                "ports": [port_label(p["proto"], p["port"]) for p in d["ports"]],
                "tags": tag_labels(int(d["tag_bits"])),
            }
        )
    history |= {
        "country": next((d["country"] for d in days if d["country"]), None),
        "asn": next((d["asn"] for d in days if d["asn"] is not None), None),
        "first_seen": iso_ns(days[0]["first_seen"]),
        "last_seen": iso_ns(days[-1]["last_seen"]),
        "packets": sum(int(d["packets"]) for d in days),
        "tags": tag_labels(bits),
    }
    first: date = max(days[0]["day"], since) if since else days[0]["day"]
    end: date = days[-1]["day"] + timedelta(days=1)
    # Events are IPv4 only, and need raw packets (kept from ``since`` on).
    if ipaddress.IPv6Address(src).ipv4_mapped is not None and first < end:
        darknet = darknet_size(engine, first, end)
        scan_params, dos_params = scan_params or ScanParams(), dos_params or DosParams()
        scans, _ = extract_scans(
            engine, Window(first, end, scan_params.timeout_s), scan_params, darknet, source=src
        )
        attacks, _ = extract_attacks(
            engine, Window(first, end, dos_params.timeout_s), dos_params, darknet, source=src
        )
        history["darknet"] = darknet.as_json()
        history["scans"] = to_rows(scans.sort_by("start"))
        history["dos_attacks"] = to_rows(attacks.sort_by("start"))
    return history
