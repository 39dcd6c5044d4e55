"""Scan events on hand-built stores with known answers, and against a plain-Python reference."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from teiten.analyze.events import EVENTS_VERSION
from teiten.analyze.periods import parse_period
from teiten.analyze.scans import ScanParams, scan_events
from teiten.errors import OptionError
from teiten.fingerprint import TAG_BITS
from teiten.store import DuckDBEngine
from teiten.store.sensors import declare_sensor

from ._events import T0, add, darknet, probes, sessions, store_with

DAY = "2024-05-01"
DARK = darknet("198.51.100.0/24")


def _events(store, period=DAY, **kw):
    with DuckDBEngine(store) as engine:
        return scan_events(engine, parse_period(period), ScanParams(**kw))


def test_one_scan_with_the_exact_internet_wide_rate(tmp_path):
    # 150 SYNs to 150 distinct addresses of a /24 in 10 s (first to last probe).
    times = [i * 10 / 149 for i in range(150)]
    store = store_with(tmp_path / "s", probes("203.0.113.9", times, DARK[:150], dport=23))
    declare_sensor(store, "s1", addresses=256)
    report = _events(store)
    assert report.total == 1 and report.withheld == 0
    (e,) = report.rows
    assert (e["source"], e["proto"], e["port"]) == ("203.0.113.9", "tcp", 23)
    assert (e["packets"], e["destinations"]) == (150, 150)
    assert e["duration_s"] == pytest.approx(10.0, abs=1e-6)
    assert e["rate_pps_internet_wide"] == pytest.approx(150 * 2**32 / 256 / 10, rel=1e-6)
    assert e["start"] == T0.isoformat() and e["end"].startswith("2024-05-01T12:00:10")
    assert not e["continues_before"] and not e["continues_after"]
    assert report.darknet.as_json()["darknet_size_source"] == "declared"
    assert report.darknet.size == 256


def test_undeclared_sensor_uses_the_destinations_it_observed(tmp_path):
    times = [i * 0.1 for i in range(150)]
    store = store_with(tmp_path / "s", probes("203.0.113.9", times, DARK[:150], dport=23))
    report = _events(store)
    assert report.darknet.size == 150
    assert report.darknet.as_json() == {
        "size": 150,
        "darknet_size_source": "observed",
        "sensors": [{"sensor": "s1", "addresses": 150, "source": "observed"}],
    }
    (e,) = report.rows
    assert e["rate_pps_internet_wide"] == pytest.approx(150 * 2**32 / 150 / 14.9, rel=1e-6)


def test_darknet_sums_the_observing_sensors(tmp_path):
    store = store_with(tmp_path / "s", probes("203.0.113.9", range(150), DARK[:150], dport=23))
    add(store, probes("203.0.113.7", [0], ["192.0.2.1"], dport=80), sensor="s2")
    declare_sensor(store, "s2", addresses=512)
    declare_sensor(store, "idle", addresses=1 << 16)  # no packets in the period: not counted
    report = _events(store)
    assert report.darknet.size == 150 + 512
    assert report.darknet.source == "mixed"


def test_a_silence_longer_than_the_timeout_splits_the_scan(tmp_path):
    first = [i * 0.1 for i in range(150)]
    second = [first[-1] + 481 + i * 0.1 for i in range(150)]
    store = store_with(tmp_path / "s", probes("203.0.113.9", first + second, DARK, dport=22))
    declare_sensor(store, "s1", addresses=256)
    report = _events(store)
    assert report.total == 2
    assert sorted(e["packets"] for e in report.rows) == [150, 150]
    assert _events(store, timeout_s=481).total == 1  # a gap equal to the timeout continues


def test_below_the_thresholds_there_is_no_event(tmp_path):
    # A /24: the scaled threshold is its floor, 10 destinations; 9 are too few, however fast.
    store = store_with(tmp_path / "a", probes("203.0.113.9", range(200), DARK[:9], dport=23))
    declare_sensor(store, "s1", addresses=256)
    assert _events(store).total == 0
    assert _events(store, min_destinations=9).total == 1
    # A /8: Durumeric's 100; 99 are too few.
    near = store_with(tmp_path / "n", probes("203.0.113.9", range(200), DARK[:99], dport=23))
    declare_sensor(near, "s1", addresses=1 << 24)
    assert _events(near).total == 0
    assert _events(near, min_destinations=99).total == 1
    # 100 destinations of a /8 over 3,000 s: 100 × 2^32 / 2^24 / 3000 ≈ 8.5 pps < 10.
    times = [i * 3000 / 99 for i in range(100)]
    slow = store_with(tmp_path / "b", probes("203.0.113.9", times, DARK[:100], dport=23))
    declare_sensor(slow, "s1", addresses=1 << 24)
    assert _events(slow).total == 0
    (e,) = _events(slow, min_rate=8).rows
    assert e["rate_pps_internet_wide"] == pytest.approx(100 * 256 / 3000, rel=1e-6)


def test_keys_are_source_protocol_and_port_and_icmp_has_no_port(tmp_path):
    rows = probes("203.0.113.9", range(120), DARK, dport=23)
    rows += probes("203.0.113.9", range(120), DARK, dport=2323)
    rows += probes("203.0.113.9", range(120), DARK, proto=17, dport=23)
    rows += probes("203.0.113.9", range(120), DARK, proto=1, icmp_type=8)
    rows += probes("203.0.113.10", range(6), DARK, dport=23)  # too few on its own
    rows += probes("203.0.113.10", range(6), DARK, dport=24)
    store = store_with(tmp_path / "s", rows)
    got = sorted((e["source"], e["proto"], e["port"] or 0) for e in _events(store).rows)
    assert got == [
        ("203.0.113.9", "icmp", 0),
        ("203.0.113.9", "tcp", 23),
        ("203.0.113.9", "tcp", 2323),
        ("203.0.113.9", "udp", 23),
    ]
    icmp = next(e for e in _events(store).rows if e["proto"] == "icmp")
    assert icmp["port"] is None


def test_backscatter_is_not_a_scan(tmp_path):
    rows = probes("203.0.113.9", range(200), DARK, dport=40000, kind="backscatter")
    assert _events(store_with(tmp_path / "s", rows)).total == 0


def test_tags_of_the_scan_packets(tmp_path):
    mirai = 1 << TAG_BITS["mirai"]
    rows = probes("203.0.113.9", range(150), DARK, dport=23, tags=mirai)
    (e,) = _events(store_with(tmp_path / "s", rows)).rows
    assert e["tags"] == ["mirai"]


def test_scans_crossing_the_period_edges_are_cut_and_flagged(tmp_path):
    # 23:55 .. 00:05 on the next day, one probe every 2 s.
    base = 11 * 3600 + 55 * 60
    times = [base + 2 * i for i in range(301)]
    store = store_with(tmp_path / "s", probes("203.0.113.9", times, DARK, dport=445))
    declare_sensor(store, "s1", addresses=256)
    (before,) = _events(store, "2024-05-01").rows
    (after,) = _events(store, "2024-05-02").rows
    assert not before["continues_before"] and before["continues_after"]
    assert after["continues_before"] and not after["continues_after"]
    (whole,) = _events(store, "2024-05-01..2024-05-02").rows
    assert whole["packets"] == 301 == before["packets"] + after["packets"]
    assert not whole["continues_before"] and not whole["continues_after"]


def test_a_source_that_is_a_sensor_address_is_withheld(tmp_path):
    rows = probes("198.51.100.77", range(150), DARK, dport=23)  # from our own /24
    rows += probes("203.0.113.9", range(150), DARK, dport=23)
    report = _events(store_with(tmp_path / "s", rows))
    assert report.total == 1 and report.withheld == 1
    assert [e["source"] for e in report.rows] == ["203.0.113.9"]


def test_events_are_stored_reused_and_recomputed_when_the_store_changes(tmp_path):
    store = store_with(tmp_path / "s", probes("203.0.113.9", range(150), DARK, dport=23))
    first = _events(store)
    assert not first.reused and first.stored and first.stored.endswith(".parquet")
    assert "/events/scans/2024-05-01/" in first.stored
    again = _events(store)
    assert again.reused and again.rows == first.rows and again.stored == first.stored
    # New packets on another day, far away: the stored result is still current.
    far = [{"ts": "2024-06-01T00:00:00", "src": "203.0.113.1", "dst": DARK[0], "dport": 80}]
    add(store, far)
    assert _events(store).reused
    # New packets that day: recomputed.
    add(store, probes("203.0.113.20", [3600 + i for i in range(150)], DARK, dport=80))
    changed = _events(store)
    assert not changed.reused and changed.total == 2
    # Other parameters: another file; a new declaration: recomputed.
    assert not _events(store, min_destinations=50).reused
    declare_sensor(store, "s1", addresses=256)
    declared = _events(store)
    assert not declared.reused and declared.darknet.source == "declared"


def test_stored_events_are_plain_parquet(tmp_path):
    import duckdb

    store = store_with(tmp_path / "s", probes("203.0.113.9", range(150), DARK, dport=23))
    _events(store)
    glob = str(tmp_path / "s" / "events" / "scans" / "*" / "*.parquet")
    rows = duckdb.sql(f"SELECT source, port, packets FROM '{glob}'").fetchall()
    assert rows == [("203.0.113.9", 23, 150)]
    assert EVENTS_VERSION >= 1


def test_bad_parameters_are_option_errors():
    with pytest.raises(OptionError):
        ScanParams(min_destinations=0)
    with pytest.raises(OptionError):
        ScanParams(min_rate=-1)
    with pytest.raises(OptionError):
        ScanParams(timeout_s=0)


def test_an_empty_store_has_no_events(tmp_path):
    report = _events(store_with(tmp_path / "s", []))
    assert report.total == 0 and report.darknet.size == 0 and report.darknet.source == "none"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_events_match_a_plain_python_sessionizer(tmp_path, seed):
    """Random sources, ports and gaps (ties included) against a reference implementation."""
    rnd = random.Random(seed)
    rows, packets = [], []
    t0_ns = int(T0.timestamp()) * 10**9
    for s in range(12):
        src = f"203.0.113.{s + 1}"
        for port in rnd.sample([22, 23, 80, 443], 2):
            t_us = rnd.randrange(600 * 10**6)
            for _ in range(rnd.randint(50, 400)):
                roll = rnd.random()  # ties, short gaps, and now and then a long silence
                gap = (
                    0.0
                    if roll < 0.05
                    else rnd.uniform(400, 700)
                    if roll > 0.99
                    else rnd.expovariate(1 / 3)
                )
                t_us += int(gap * 10**6)
                dst = DARK[rnd.randrange(len(DARK))]
                ts = (T0 + timedelta(microseconds=t_us)).strftime("%Y-%m-%dT%H:%M:%S.%f")
                rows.append({"ts": ts, "src": src, "dst": dst, "dport": port})
                packets.append(((src, port), t0_ns + t_us * 1000, dst))
    store = store_with(tmp_path / "s", rows)
    declare_sensor(store, "s1", addresses=256)
    params = {"min_destinations": 40, "min_rate": 0.0, "timeout_s": 480.0}
    expected = set()
    for (src, port), groups in sessions(packets, 480 * 10**9).items():
        for g in groups:
            dests = len({p[2] for p in g})
            if dests >= params["min_destinations"]:
                expected.add((src, port, len(g), dests, g[0][1], g[-1][1]))
    report = _events(store, "2024-05-01..2024-05-02", **params)
    got = {
        (e["source"], e["port"], e["packets"], e["destinations"], _ns(e["start"]), _ns(e["end"]))
        for e in report.rows
    }
    assert report.total == len(report.rows)
    assert got == expected and len(expected) > 5


def _ns(iso: str) -> int:
    d = datetime.fromisoformat(iso)
    return (int(d.timestamp()) * 10**6 + d.microsecond) * 1000
