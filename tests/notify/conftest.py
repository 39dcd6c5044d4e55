"""A store with known infected sources per AS, and the truth about it from the raw packets.

Two simulated days (2024-03-01 and -02: the two periods of the status tests) tagged with
a MaxMind-format AS database that puts each /4 of the IPv4 space in its own AS
(AS64500 + n for n.0.0.0/4 … ) and the built-in RIR countries; the sources of
:data:`RESEARCH_ASN` are on the store's research scanner list. One more capture holds
Mirai SYNs *from* a sensor's own address (:data:`SENSOR_SOURCE`, which the simulated
traffic reaches as a destination): no feed may list it. The expected findings are
computed with DuckDB over the raw Parquet packets, not the rollups the feeds read.
"""

from __future__ import annotations

import ipaddress
import shutil
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from enrich.conftest import write_mmdb

DAYS = ("2024-03-01", "2024-03-02")
RESEARCH_ASN = 64509  # 144.0.0.0/4
SENSORS = (("east", "198.18.4.0/24"), ("west", "192.0.2.0/25"))
SENSOR_SOURCE = "198.18.4.7"  # a monitored address that also sends Mirai SYNs
TOOLS, MIRAI, RESEARCH = 0b110, 0b1, 1 << 24
SMB_MIN_PACKETS, SMB_MIN_SHARE = 10, 0.9


@dataclass(frozen=True)
class NotifyStore:
    store: Path


def asn_of(ip: str) -> int | None:
    address = ipaddress.ip_address(ip)
    return 64500 + (int(address) >> 28) if address.version == 4 else None


def _pcap(path: Path, when: datetime, src: str, dsts: list[str]) -> Path:
    """A pcap of Mirai-style SYNs (sequence number = destination address) to port 23."""
    records = []
    source = ipaddress.IPv4Address(src).packed
    for i, dst in enumerate(dsts):
        target = ipaddress.IPv4Address(dst)
        tcp = struct.pack("!HHIIBBHHH", 40000, 23, int(target), 0, 5 << 4, 0x02, 1024, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i, 0, 64, 6, 0, source, target.packed)
        frame = b"\x00" * 12 + b"\x08\x00" + ip + tcp
        ts = when + timedelta(seconds=i)
        seconds = int(ts.timestamp())
        records.append(struct.pack("<IIII", seconds, 0, len(frame), len(frame)) + frame)
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    path.write_bytes(header + b"".join(records))
    return path


@pytest.fixture(scope="session")
def notify_store(tmp_path_factory: pytest.TempPathFactory) -> NotifyStore:
    from teiten.enrich import open_geo
    from teiten.fingerprint import TagContext
    from teiten.fingerprint.research import ResearchNetworks
    from teiten.ingest import ingest
    from teiten.simulate import SimulationConfig, simulate_to_store
    from teiten.simulate.config import SensorSpec
    from teiten.store import Store

    root = tmp_path_factory.mktemp("notify")
    networks = {f"{16 * i}.0.0.0/4": {"autonomous_system_number": 64500 + i} for i in range(16)}
    mmdb = write_mmdb(root / "asn.mmdb", "teiten-test-asn", networks)
    config = SimulationConfig(
        start=datetime(2024, 3, 1, tzinfo=UTC),
        end=datetime(2024, 3, 3, tzinfo=UTC),
        packets=60_000,
        seed=5,
        sensors=tuple(SensorSpec(name, prefix) for name, prefix in SENSORS),
    )
    context = TagContext(research=ResearchNetworks.parse(f"AS{RESEARCH_ASN} test research\n"))
    store = Store(root / "store", create=True)
    try:
        with open_geo(None, asn_path=mmdb) as geo:
            simulate_to_store(config, store, geo=geo, context=context)
            capture = _pcap(
                root / "sensor-source.pcap",
                datetime(2024, 3, 1, 12, tzinfo=UTC),
                SENSOR_SOURCE,
                [f"198.18.4.{n}" for n in range(20, 40)],
            )
            report = ingest([capture], store, geo, sensor="east", context=context)
            assert report.ok, report
    finally:
        store.close()
    return NotifyStore(root / "store")


def fresh_store(notify_store: NotifyStore, folder: Path) -> Path:
    """A copy of the session's store that a test may write feeds and sent-logs into."""
    copy = folder / "store"
    shutil.copytree(notify_store.store, copy)
    return copy


def expected_rows(store: Path, day: str) -> list[dict[str, Any]]:
    """The findings of ``day`` from the raw packets: ``(ip, type, protocol)`` with
    ``count``, ``asn``, ``geo`` — the rules of docs/notify.md written again over packets."""
    first = date.fromisoformat(day)
    end = first + timedelta(days=1)
    sql = f"""
    WITH p AS (
        SELECT src, dst, proto, dport, tags, CAST(kind AS VARCHAR) AS kind, asn,
               CAST(country AS VARCHAR) AS country
        FROM read_parquet('{store}/packets/*/*.parquet', hive_partitioning = false)
        WHERE ts >= TIMESTAMPTZ '{first} 00:00:00+00' AND ts < TIMESTAMPTZ '{end} 00:00:00+00'
    ), excluded AS (
        SELECT src FROM p WHERE (tags & {RESEARCH}) <> 0 UNION SELECT dst FROM p
    ), probes AS (
        SELECT * FROM p WHERE kind = 'probe' AND src NOT IN (SELECT src FROM excluded)
    ), smb AS (
        SELECT src FROM probes GROUP BY src
        HAVING count(*) FILTER (WHERE proto = 6 AND dport = 445 AND (tags & {TOOLS}) = 0)
               >= greatest({SMB_MIN_PACKETS}, {SMB_MIN_SHARE} * count(*))
    )
    SELECT 'mirai' AS type, src, proto, count(*) AS n, any_value(asn) AS asn,
           any_value(country) AS geo
    FROM probes WHERE (tags & {MIRAI}) <> 0 GROUP BY src, proto
    UNION ALL
    SELECT 'scanner', src, proto, count(*), any_value(asn), any_value(country)
    FROM probes WHERE (tags & {TOOLS}) <> 0 GROUP BY src, proto
    UNION ALL
    SELECT 'smb-worm', src, proto, count(*), any_value(asn), any_value(country)
    FROM probes WHERE proto = 6 AND dport = 445 AND (tags & {TOOLS}) = 0
      AND src IN (SELECT src FROM smb)
    GROUP BY src, proto
    """
    names = {1: "icmp", 6: "tcp", 17: "udp"}
    return [
        {
            "ip": _text(src),
            "type": kind,
            "protocol": names[proto],
            "count": n,
            "asn": asn,
            "geo": geo,
        }
        for kind, src, proto, n, asn, geo in duckdb.connect().execute(sql).fetchall()
    ]


def destinations(store: Path) -> set[str]:
    """Every destination address of the store's packets (the sensors' addresses)."""
    sql = f"SELECT DISTINCT dst FROM read_parquet('{store}/packets/*/*.parquet')"
    return {_text(r[0]) for r in duckdb.connect().execute(sql).fetchall()}


def tagged_sources(store: Path, tag: int, asn: int | None = None) -> set[str]:
    """The sources with a packet carrying a tag of ``tag`` (in AS ``asn`` when given)."""
    sql = (
        f"SELECT DISTINCT src FROM read_parquet('{store}/packets/*/*.parquet') "
        f"WHERE (tags & {tag}) <> 0" + ("" if asn is None else f" AND asn = {asn}")
    )
    return {_text(r[0]) for r in duckdb.connect().execute(sql).fetchall()}


def _text(value: bytes) -> str:
    ip = ipaddress.IPv6Address(bytes(value))
    return str(ip.ipv4_mapped or ip)


def toml_config(folder: Path, recipients: list[dict[str, Any]], feed: str = "") -> Path:
    """``folder/notify.toml`` with these recipients (each a dict, ``delivery`` a dict)."""
    lines = ["[feed]", 'organisation = "Test CSIRT"', 'contact = "csirt@example.org"', feed]
    for r in recipients:
        lines.append("[[recipient]]")
        lines += [f"{k} = {_toml(v)}" for k, v in r.items() if k != "delivery"]
        lines.append("[recipient.delivery]")
        lines += [f"{k} = {_toml(v)}" for k, v in r["delivery"].items()]
    path = folder / "notify.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | Path):
        return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)
