"""The per-source view and one source's history, on a hand-built store."""

from __future__ import annotations

import pytest

from teiten.analyze.periods import parse_period
from teiten.analyze.rankings import parse_port
from teiten.analyze.sources import (
    SourceFilters,
    address_bytes,
    address_text,
    source_history,
    sources,
)
from teiten.errors import OptionError, TeitenError
from teiten.fingerprint import TAG_BITS
from teiten.store import DuckDBEngine

from ._events import add, backscatter, darknet, probes, store_with

DARK = darknet("198.51.100.0/24")
MIRAI, ZMAP = 1 << TAG_BITS["mirai"], 1 << TAG_BITS["zmap"]
BOT, WORM, VICTIM = "203.0.113.23", "203.0.113.45", "203.0.113.80"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("sources") / "store"
    rows = probes(BOT, range(5), DARK, dport=23, tags=MIRAI, country="BR", asn=64500)
    rows += probes(BOT, range(10, 12), DARK, dport=2323, tags=MIRAI | ZMAP, country="BR")
    rows += probes(WORM, range(3), DARK, dport=445, country="JP")
    rows += probes(WORM, [5], DARK, proto=1, icmp_type=8, country="JP")
    rows += backscatter(VICTIM, [i * 2 for i in range(60)], DARK, sport=80, country="US")
    rows += probes("198.51.100.9", range(50), DARK, dport=23)  # a sensor address as source
    store = store_with(root, rows)
    # The next day: the bot comes back and scans 23/tcp properly.
    add(store, probes(BOT, [86_400 + i * 0.1 for i in range(150)], DARK, dport=23, tags=MIRAI))
    with DuckDBEngine(store) as e:
        yield e


def _sources(engine, period="2024-05-01", limit=20, **kw):
    return sources(engine, parse_period(period), SourceFilters(**kw), limit=limit)


def test_rows_most_packets_first_with_ports_and_tags(engine):
    report = _sources(engine)
    assert [r["source"] for r in report.rows] == [BOT, WORM]
    bot = report.rows[0]
    assert bot == {
        "source": BOT,
        "country": "BR",
        "asn": 64500,
        "first_seen": "2024-05-01T12:00:00+00:00",
        "last_seen": "2024-05-01T12:00:11+00:00",
        "packets": 7,
        "ports": ["23/tcp", "2323/tcp"],
        "tags": ["mirai", "zmap"],
    }
    assert report.rows[1]["ports"] == ["445/tcp", "icmp type 8"]
    assert report.total == {"sources": 2, "packets": 11, "withheld_sensor_sources": 1}


def test_filters(engine):
    assert [r["source"] for r in _sources(engine, tag="mirai").rows] == [BOT]
    assert [r["source"] for r in _sources(engine, tag="zmap").rows] == [BOT]
    assert [r["source"] for r in _sources(engine, country="jp").rows] == [WORM]
    assert [r["source"] for r in _sources(engine, port="445/tcp").rows] == [WORM]
    assert [r["source"] for r in _sources(engine, port="23").rows] == [BOT]
    assert _sources(engine, port="23/udp").rows == []
    (victim,) = _sources(engine, traffic="backscatter").rows
    assert victim["source"] == VICTIM and victim["ports"] == ["40000/tcp"]
    assert len(_sources(engine, traffic="all").rows) == 3
    assert len(_sources(engine, limit=1).rows) == 1
    with pytest.raises(OptionError):
        _sources(engine, tag="no-such-tag")
    with pytest.raises(OptionError):
        _sources(engine, port="http")


def test_history_of_one_source(engine):
    h = source_history(engine, BOT)
    assert h["source"] == BOT and h["packets"] == 157
    assert [d["day"] for d in h["days"]] == ["2024-05-01", "2024-05-02"]
    assert h["days"][0]["ports"] == ["23/tcp", "2323/tcp"]
    assert h["days"][1] == {
        "day": "2024-05-02",
        "packets": 150,
        "probe": 150,
        "backscatter": 0,
        "ports": ["23/tcp"],
        "tags": ["mirai"],
    }
    assert h["tags"] == ["mirai", "zmap"]
    (scan,) = h["scans"]
    assert (scan["port"], scan["packets"], scan["destinations"]) == (23, 150, 150)
    assert h["dos_attacks"] == []
    victim = source_history(engine, VICTIM)
    (attack,) = victim["dos_attacks"]
    assert attack["victim"] == VICTIM and attack["packets"] == 60


def test_history_refuses_sensor_addresses_and_bad_input(engine):
    with pytest.raises(TeitenError, match="sensors' monitored addresses"):
        source_history(engine, DARK[3])
    with pytest.raises(OptionError):
        source_history(engine, "not-an-ip")
    empty = source_history(engine, "192.0.2.200")
    assert empty["days"] == [] and empty["packets"] == 0


def test_addresses_and_ports():
    assert address_text(address_bytes("192.0.2.1")) == "192.0.2.1"
    assert address_text(address_bytes("2001:db8::1")) == "2001:db8::1"
    assert parse_port("23/TCP") == (6, 23) and parse_port("53") == (None, 53)


def test_an_ipv6_sensor_address_is_withheld_like_an_ipv4_one(tmp_path):
    # The rollups list IPv4 destinations only: IPv6 ones are told from the packets.
    dark6 = ["2001:db8:ff::1", "2001:db8:ff::2"]
    rows = probes("2001:db8:1::5", range(4), dark6, dport=22, country="DE")
    rows += probes("2001:db8:ff::2", range(9), ["2001:db8:ff::1"], dport=23)  # a sensor's
    rows += probes("203.0.113.9", range(2), DARK, dport=23)
    with DuckDBEngine(store_with(tmp_path / "s", rows)) as engine:
        report = _sources(engine)
    assert [r["source"] for r in report.rows] == ["2001:db8:1::5", "203.0.113.9"]
    assert report.total == {"sources": 2, "packets": 6, "withheld_sensor_sources": 1}
