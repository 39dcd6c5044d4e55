"""DoS attacks from backscatter: hand-built known answers, a real capture, a reference."""

from __future__ import annotations

import random

import pytest

from conftest import capture_path
from teiten.analyze.dos import DosParams, dos_attacks
from teiten.analyze.periods import parse_period
from teiten.enrich import open_geo
from teiten.errors import OptionError
from teiten.ingest import ingest
from teiten.store import DuckDBEngine, Store
from teiten.store.sensors import declare_sensor

from ._events import T0, backscatter, darknet, max_ppm, sessions, store_with

DAY = "2024-05-01"
DARK = darknet("198.51.100.0/24")
VICTIM = "203.0.113.80"


def _attacks(store, period=DAY, **kw):
    with DuckDBEngine(store) as engine:
        return dos_attacks(engine, parse_period(period), DosParams(**kw))


def test_forty_synacks_over_ninety_seconds_are_one_attack(tmp_path):
    # 35 packets in the first 50 s, then 5 more up to 90 s.
    times = [i * 50 / 34 for i in range(35)] + [60, 67.5, 75, 82.5, 90]
    rows = backscatter(VICTIM, times, DARK[:40], sport=80)
    store = store_with(tmp_path / "s", rows)
    declare_sensor(store, "s1", addresses=256)
    report = _attacks(store)
    assert report.total == 1
    (a,) = report.rows
    assert (a["victim"], a["proto"], a["packets"]) == (VICTIM, "tcp", 40)
    assert a["ports"] == ["80/tcp"] and a["port_count"] == 1
    assert a["destinations"] == 40
    assert a["duration_s"] == pytest.approx(90.0)
    assert a["max_ppm"] == 35  # 10 s buckets 0–5 (0 … 59 s)
    assert a["rate_pps_internet_wide"] == pytest.approx(40 / 90 * 2**32 / 256, rel=1e-6)
    assert a["start"] == T0.isoformat()


def test_too_few_too_short_or_too_slow_is_no_attack(tmp_path):
    few = backscatter(VICTIM, [i * 5 for i in range(20)], DARK)  # 20 packets over 95 s
    short = backscatter("203.0.113.81", [i * 50 / 39 for i in range(40)], DARK)  # 50 s
    slow = backscatter("203.0.113.82", [i * 6 for i in range(100)], DARK)  # 10 per minute
    store = store_with(tmp_path / "s", few + short + slow)
    assert _attacks(store).total == 0
    assert _attacks(store, min_duration_s=50).rows[0]["victim"] == "203.0.113.81"
    assert {a["victim"] for a in _attacks(store, min_ppm=10).rows} == {"203.0.113.82"}


def test_three_hundred_seconds_of_silence_ends_an_attack(tmp_path):
    burst = [i * 2 for i in range(40)]  # 40 packets over 78 s, 30 in a minute
    times = burst + [78 + 301 + t for t in burst]
    store = store_with(tmp_path / "s", backscatter(VICTIM, times, DARK))
    assert _attacks(store).total == 2
    assert _attacks(store, timeout_s=302).total == 1


def test_vectors_are_per_victim_and_protocol_and_ports_most_frequent_first(tmp_path):
    times = [i * 2 for i in range(60)]
    rows = backscatter(VICTIM, times[:45], DARK, sport=443)
    rows += backscatter(VICTIM, times[45:], DARK, sport=80)
    rows += backscatter(VICTIM, times, DARK, proto=1, icmp_type=0)
    store = store_with(tmp_path / "s", rows)
    got = {(a["proto"], tuple(a["ports"]), a["packets"]) for a in _attacks(store).rows}
    assert got == {("tcp", ("443/tcp", "80/tcp"), 60), ("icmp", (), 60)}


def test_probes_are_not_backscatter(tmp_path):
    rows = backscatter(VICTIM, [i * 2 for i in range(60)], DARK, kind="probe")
    assert _attacks(store_with(tmp_path / "s", rows)).total == 0


def test_a_victim_that_is_a_sensor_address_is_withheld(tmp_path):
    rows = backscatter("198.51.100.5", [i * 2 for i in range(60)], DARK)
    rows += backscatter(VICTIM, [i * 2 for i in range(60)], DARK)
    report = _attacks(store_with(tmp_path / "s", rows))
    assert report.withheld == 1 and [a["victim"] for a in report.rows] == [VICTIM]


def test_attacks_are_stored_and_reused(tmp_path):
    store = store_with(tmp_path / "s", backscatter(VICTIM, [i * 2 for i in range(60)], DARK))
    first = _attacks(store)
    assert not first.reused and "/events/dos/2024-05-01/" in (first.stored or "")
    assert _attacks(store).reused


def test_bad_parameters_are_option_errors():
    with pytest.raises(OptionError):
        DosParams(window_s=60, window_step_s=7)
    with pytest.raises(OptionError):
        DosParams(min_packets=0)


@pytest.mark.parametrize("seed", [4, 5])
def test_attacks_match_a_plain_python_reference(tmp_path, seed):
    """Random bursts against a direct transcription of corsaro's rules."""
    rnd = random.Random(seed)
    rows, packets = [], []
    t0_ns = int(T0.timestamp()) * 10**9
    for v in range(15):
        victim = f"203.0.113.{100 + v}"
        t_us = rnd.randrange(3600 * 10**6)
        rate = rnd.choice([0.2, 0.5, 1, 3])  # packets/s
        for _ in range(rnd.randint(15, 300)):
            silence = rnd.random() < 0.01
            t_us += int((rnd.uniform(300, 400) if silence else rnd.expovariate(rate)) * 10**6)
            dst = DARK[rnd.randrange(256)]
            rows += backscatter(victim, [0], [dst])
            rows[-1]["ts"] = _iso(T0, t_us)
            packets.append(((victim,), t0_ns + t_us * 1000, dst))
    store = store_with(tmp_path / "s", rows)
    expected = set()
    for (victim,), groups in sessions(packets, 300 * 10**9).items():
        for g in groups:
            times = [p[1] for p in g]
            if len(g) >= 25 and times[-1] - times[0] >= 60 * 10**9 and max_ppm(times) >= 30:
                expected.add((victim, len(g), max_ppm(times), len({p[2] for p in g})))
    report = _attacks(store, "2024-05-01..2024-05-02")
    got = {(a["victim"], a["packets"], a["max_ppm"], a["destinations"]) for a in report.rows}
    assert got == expected and expected


def _iso(base, t_us):
    from datetime import timedelta

    return (base + timedelta(microseconds=t_us)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def test_real_reflection_capture_has_one_attack(tmp_path):
    """stopddos_amp.TCP.syn…: 396 SYN-ACKs from 21/tcp of one host over 818 s.

    Cross-checked with dpkt (an independent decoder) and the reference rules: the
    busiest 60 s window holds exactly 30 packets, the threshold; the other
    answering hosts (136 packets over 810 s, or a handful) are no attack.
    """
    import dpkt

    path = capture_path("stopddos_amp.TCP.syn.optionallyACK.optionallysamePort.pcapng")
    packets = []
    with open(path, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            tcp = ip.data
            if isinstance(tcp, dpkt.tcp.TCP) and (
                tcp.flags & dpkt.tcp.TH_RST
                or (tcp.flags & dpkt.tcp.TH_SYN and tcp.flags & dpkt.tcp.TH_ACK)
            ):
                ns = round(ts * 10**6) * 1000
                packets.append(((ip.src,), ns, ip.dst))
    expected = set()
    for (victim,), groups in sessions(packets, 300 * 10**9).items():
        for g in groups:
            times = [p[1] for p in g]
            if len(g) >= 25 and times[-1] - times[0] >= 60 * 10**9 and max_ppm(times) >= 30:
                expected.add((".".join(map(str, victim)), len(g), max_ppm(times)))
    assert expected == {("75.136.225.254", 396, 30)}

    store = Store(tmp_path / "s")
    ingest([path], store, open_geo(), sensor="lab")
    report = _attacks(store, "2021-06-20")
    got = {(a["victim"], a["packets"], a["max_ppm"]) for a in report.rows}
    assert got == expected
    (a,) = report.rows
    assert a["ports"] == ["21/tcp"] and a["destinations"] == 1
    assert _attacks(store, "2021-06-20", min_ppm=31).total == 0


def test_real_flood_capture_has_no_attack(tmp_path):
    """The DOMINATE flood's RSTs come from 239 hosts, one packet each: no attack."""
    store = Store(tmp_path / "s")
    path = capture_path("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng")
    ingest([path], store, open_geo(), sensor="lab")
    report = _attacks(store, "2021-04-01")
    assert report.total == 0 and report.darknet.size == 1


def test_internet_wide_estimates_need_a_declared_slash_16(tmp_path):
    """The rule of docs/events.md: a declared darknet of at least 2^16 addresses."""
    times = [i * 2 for i in range(40)]
    store = store_with(tmp_path / "s", backscatter(VICTIM, times, DARK[:40]))
    assert _attacks(store).as_json()["estimate_supported"] is False  # observed: 40 addresses
    declare_sensor(store, "s1", addresses=(1 << 16) - 1)
    assert _attacks(store).as_json()["estimate_supported"] is False
    declare_sensor(store, "s1", addresses=1 << 16)
    data = _attacks(store).as_json()
    assert data["estimate_supported"] is True
    assert data["rows"][0]["rate_pps_internet_wide"] == pytest.approx(40 / 78 * 2**16, rel=1e-6)
