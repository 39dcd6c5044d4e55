"""Events from per-day session fragments equal the events computed from the packets.

Hand-built days with sessions that cross midnight (chains over several days too),
period edges, busiest windows that straddle midnight or depend on the joined
session's bucket phase, and a store ingested from real captures; every period and
threshold compared with the raw computation, JSON for JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from conftest import capture_path
from teiten.analyze import dos as dos_module
from teiten.analyze import scans as scans_module
from teiten.analyze.dos import DosParams, dos_attacks
from teiten.analyze.periods import parse_period
from teiten.analyze.scans import ScanParams, scan_events
from teiten.analyze.sessions import fragments, prepare
from teiten.store import DuckDBEngine, Store
from teiten.store.sensors import declare_sensor

from ._events import add, darknet

MIDNIGHT = datetime(2024, 5, 2, tzinfo=UTC)  # between the first and second day
DARK = darknet("198.51.100.0/24")
PERIODS = [
    "2024-05-01", "2024-05-02", "2024-05-03", "2024-05-04", "2024-05-01..2024-05-02",
    "2024-05-02..2024-05-03", "2024-05-01..2024-05-04", "2024-W18", "2024-05", "2024Q2",
]  # fmt: skip
SCAN_PARAMS = [ScanParams(), ScanParams(min_destinations=12), ScanParams(min_rate=5e5)]
DOS_PARAMS = [DosParams(), DosParams(min_packets=40), DosParams(min_ppm=35, top_ports=2)]


def _at(seconds: float) -> str:
    """ISO time ``seconds`` after the first midnight (negative: before it)."""
    return (MIDNIGHT + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _rows(src: str, times: list[float], dsts: list[str], **kw) -> list[dict]:
    return [
        {"ts": _at(t), "src": src, "dst": dsts[i % len(dsts)], **kw} for i, t in enumerate(times)
    ]


def _scans() -> list[dict]:
    rows = []
    # Probes every 240 s from 22:00 of the first day to 02:00 of the fourth: one
    # session over three midnights.
    rows += _rows("203.0.113.1", [-7200 + 240 * i for i in range(790)], DARK, dport=23)
    # 23:55 .. 00:05: 15 addresses before midnight, 15 after, 5 of them the same.
    times = [-300 + 20 * i for i in range(30)]
    dsts = DARK[:15] + DARK[10:25]
    rows += [
        {"ts": _at(t), "src": "203.0.113.2", "dst": d, "dport": 22}
        for t, d in zip(times, dsts, strict=True)
    ]
    # 8 addresses each side of a silence of exactly the timeout (joined: 16 ≥ 10) …
    rows += _rows("203.0.113.3", [-480 - 10 * i for i in range(8)], DARK[:8], dport=80)
    rows += _rows("203.0.113.3", [10 * i for i in range(8)], DARK[8:16], dport=80)
    # … and of one second more (two sessions of 8: none).
    rows += _rows("203.0.113.4", [-481 - 10 * i for i in range(8)], DARK[:8], dport=80)
    rows += _rows("203.0.113.4", [10 * i for i in range(8)], DARK[8:16], dport=80)
    # Mid-day: a scan, and small sessions that never reach the floor.
    rows += _rows("203.0.113.5", [43_200 + i for i in range(50)], DARK, dport=443)
    rows += _rows("203.0.113.5", [50_000 + 600 * i for i in range(20)], DARK[:3], dport=444)
    # An ICMP sweep across the second midnight, and one from a sensor address.
    rows += _rows("203.0.113.6", [86_200 + i for i in range(400)], DARK, proto=1, icmp_type=8)
    rows += _rows("198.51.100.7", [-100 + i for i in range(200)], DARK, dport=23)
    # Scans that touch the period edges by a few seconds.
    rows += _rows("203.0.113.7", [86_400 - 30 + i for i in range(20)], DARK, dport=8080)
    rows += _rows("203.0.113.8", [2 * 86_400 + 5 + i for i in range(20)], DARK, dport=8080)
    rows += _rows("203.0.113.8", [2 * 86_400 - 400], DARK, dport=8080)
    return rows


def _backscatter(src: str, times: list[float], **kw) -> list[dict]:
    kw.setdefault("kind", "backscatter")
    kw.setdefault("tcp_flags", 0x12)
    kw.setdefault("dport", 40000)
    return _rows(src, times, DARK, **kw)


def _attacks() -> list[dict]:
    rows = []
    # 20 packets either side of midnight, 1 s apart, then 5 more: only the window that
    # straddles midnight has 30 (40).
    times = [-20 + i for i in range(40)] + [30 + 15 * i for i in range(5)]
    rows += _backscatter("192.0.2.10", times, sport=80)
    # Every 200 s for 50 hours with a burst on the second day: an attack over two
    # midnights; its ports differ from day to day.
    slow = [-3600 + 200 * i for i in range(900)]
    burst = [40_000 + i for i in range(35)]
    for i, t in enumerate(sorted(slow + burst)):
        rows += _backscatter("192.0.2.11", [t], sport=(443 if t > 86_400 else 80 if i % 3 else 22))
    # From 23:58:03 (buckets at seconds ≡ 3 mod 10), joined after midnight by a fragment
    # from 00:00:05 whose own buckets would put its 30-packet minute in one window; the
    # session's buckets split it (29 at most): no attack.
    rows += _backscatter("192.0.2.12", [-117, -100, -60, -20, 5, 205, 405], sport=53, proto=17)
    rows += _backscatter("192.0.2.12", [605 + 2 * i for i in range(30)], sport=53, proto=17)
    # A whole attack at noon of the third day, and a vector too small.
    rows += _backscatter("192.0.2.13", [2 * 86_400 - 43_200 + i for i in range(100)], sport=25)
    rows += _backscatter("192.0.2.14", [50_000 + 30 * i for i in range(10)], sport=25)
    # ICMP backscatter from a sensor address across midnight: withheld.
    rows += _backscatter("198.51.100.9", [-40 + i for i in range(100)], proto=1, icmp_type=0)
    return rows


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("sessions") / "store")
    add(store, _scans())
    add(store, _attacks())
    declare_sensor(store, "s1", addresses=256)
    return store


def _raw(monkeypatch: pytest.MonkeyPatch, module: object) -> None:
    monkeypatch.setattr(module, "_covered", lambda *_: False)


def _both(
    store: Store, family: str, label: str, params=None, monkeypatch=None
) -> tuple[dict, dict]:
    """The ``family``'s report of period ``label`` as JSON from the fragments and from the
    packets (every row, computed anew)."""
    module, ask = (scans_module, scan_events) if family == "scans" else (dos_module, dos_attacks)
    with DuckDBEngine(store) as engine:
        merged = ask(engine, parse_period(label), params, limit=None, refresh=True).as_json()
        with monkeypatch.context() as m:
            _raw(m, module)
            raw = ask(engine, parse_period(label), params, limit=None, refresh=True).as_json()
    return json.loads(json.dumps(merged, default=str)), json.loads(json.dumps(raw, default=str))


@pytest.mark.parametrize("label", PERIODS)
def test_scan_events_from_fragments_equal_the_raw_ones(built, label, monkeypatch):
    for params in SCAN_PARAMS:
        merged, raw = _both(built, "scans", label, params, monkeypatch)
        assert merged == raw, (label, params)


@pytest.mark.parametrize("label", PERIODS)
def test_dos_attacks_from_fragments_equal_the_raw_ones(built, label, monkeypatch):
    for params in DOS_PARAMS:
        merged, raw = _both(built, "dos", label, params, monkeypatch)
        assert merged == raw, (label, params)


def test_the_grid_holds_what_it_is_meant_to(built):
    """The cases above are there: chains, joins across midnight, cut edges, withheld."""
    with DuckDBEngine(built) as engine:
        whole = scan_events(engine, parse_period("2024-05-01..2024-05-04"), limit=None)
        by_source = {e["source"]: e for e in whole.rows}
        assert by_source["203.0.113.1"]["packets"] == 790  # three midnights, one scan
        assert by_source["203.0.113.2"]["destinations"] == 25  # 15 + 15, 5 shared
        assert by_source["203.0.113.3"]["destinations"] == 16
        assert "203.0.113.4" not in by_source and whole.withheld == 1
        day = scan_events(engine, parse_period("2024-05-02"), limit=None)
        cut = {e["source"]: e for e in day.rows}["203.0.113.1"]
        assert cut["continues_before"] and cut["continues_after"]
        attacks = dos_attacks(engine, parse_period("2024-05-01..2024-05-04"), limit=None)
        victims = {a["victim"]: a for a in attacks.rows}
        assert victims["192.0.2.10"]["max_ppm"] == 41  # 40 around midnight, 1 at 00:00:30
        assert set(victims["192.0.2.11"]["ports"]) == {"443/tcp", "80/tcp", "22/tcp"}
        assert "192.0.2.12" not in victims and "192.0.2.14" not in victims
        assert attacks.withheld == 1


def test_thresholds_below_the_floor_or_another_timeout_read_the_packets(built, monkeypatch):
    calls = []
    monkeypatch.setattr(scans_module, "_from_fragments", lambda *a: calls.append(a))
    with DuckDBEngine(built) as engine:
        period = parse_period("2024-05-01..2024-05-02")
        low = scan_events(engine, period, ScanParams(min_destinations=8), limit=None)
        assert "203.0.113.4" in {e["source"] for e in low.rows}  # two sessions of 8
        scan_events(engine, period, ScanParams(timeout_s=600))
    assert calls == []


def test_a_new_day_computes_that_day_s_fragments_only(tmp_path, monkeypatch):
    store = Store(tmp_path / "s")
    add(store, _scans())
    spec = scans_module.FRAGMENTS
    with DuckDBEngine(store) as engine:
        _, computed = fragments(engine, spec, date(2024, 4, 30), date(2024, 5, 6))
        assert computed == [date(2024, 5, d) for d in (1, 2, 3, 4)]
        _, computed = fragments(engine, spec, date(2024, 4, 30), date(2024, 5, 6))
        assert computed == []
    add(store, _rows("203.0.113.1", [2 * 86_400 + 10_000 + i for i in range(50)], DARK, dport=23))
    add(store, _rows("203.0.113.9", [3 * 86_400 + 60 + i for i in range(50)], DARK, dport=23))
    with DuckDBEngine(store) as engine:
        _, computed = fragments(engine, spec, date(2024, 4, 30), date(2024, 5, 7))
        assert computed == [date(2024, 5, 4), date(2024, 5, 5)]
    for label in ("2024-05-04", "2024-05-05", "2024-05-03..2024-05-05", "2024-05"):
        merged, raw = _both(store, "scans", label, None, monkeypatch)
        assert merged == raw, label


def test_a_month_keeps_its_joined_pieces_while_its_days_are_unchanged(tmp_path, monkeypatch):
    """An ended month's (or quarter's) fragments and joins are stored once merged: the
    next query reads them instead of joining the days again, until a day changes."""
    from teiten.analyze import sessions

    store = Store(tmp_path / "s")
    add(store, _scans())
    periods = store.root / "sessions" / "scans" / "periods"
    merged, raw = _both(store, "scans", "2024-W18", None, monkeypatch)
    assert merged == raw and not periods.exists()  # a week: joined at each query
    merged, raw = _both(store, "scans", "2024-05", None, monkeypatch)
    assert merged == raw
    assert sorted(p.name for p in periods.iterdir()) == [
        "2024-05.chained.parquet",
        "2024-05.fragments.parquet",
    ]
    joins = []
    real_chain = sessions.chain
    monkeypatch.setattr(sessions, "chain", lambda *a: joins.append(a) or real_chain(*a))
    again, _ = _both(store, "scans", "2024-05", None, monkeypatch)
    assert again == merged and joins == []  # read back, not joined again
    add(store, _rows("203.0.113.9", [2 * 86_400 + 60 + i for i in range(50)], DARK, dport=23))
    changed, raw = _both(store, "scans", "2024-05", None, monkeypatch)
    assert changed == raw and len(joins) == 1 and changed != merged
    (periods / "2024-05.chained.parquet").write_bytes(b"cut short")  # damaged: joined anew
    assert _both(store, "scans", "2024-05", None, monkeypatch)[0] == changed and len(joins) == 2


def test_stale_and_damaged_fragments_are_computed_anew(tmp_path, monkeypatch):
    from teiten.store.compact import compact
    from teiten.store.remove import remove

    store = Store(tmp_path / "s")
    add(store, _scans())
    add(store, _attacks())
    with DuckDBEngine(store) as engine:
        done = prepare(engine, [scans_module.FRAGMENTS, dos_module.FRAGMENTS], _days(1, 4))
    assert done["scans"] == _days(1, 4) and done["dos"] == _days(1, 4)
    both = [scans_module.FRAGMENTS, dos_module.FRAGMENTS]
    (store.root / "sessions" / "scans" / "2024-05-02.parquet").write_bytes(b"cut short")
    with DuckDBEngine(store) as engine:
        assert prepare(engine, both, _days(1, 4)) == {"scans": _days(2, 2), "dos": []}
    # Compaction merges a day's files and keeps its batches: nothing to compute.
    add(store, _rows("203.0.113.30", [7200 + i for i in range(30)], DARK, dport=25))
    with DuckDBEngine(store) as engine:
        assert prepare(engine, both, _days(1, 4)) == {"scans": _days(2, 2), "dos": _days(2, 2)}
    assert "2024-05-02" in [d.day for d in compact(store, min_files=2)]
    with DuckDBEngine(store) as engine:
        assert prepare(engine, both, _days(1, 4)) == {"scans": [], "dos": []}
    _same_answers(store, monkeypatch)
    # A day removed: nothing else changed (its stale files are never read again).
    remove(store, days=(date(2024, 5, 3), date(2024, 5, 3)))
    with DuckDBEngine(store) as engine:
        assert prepare(engine, both, _days(1, 4)) == {"scans": [], "dos": []}
    _same_answers(store, monkeypatch)
    # The attacks' input removed: every day it had rows on changed.
    attacks = store.manifest.inputs()[1].name  # scans, attacks, the later scan
    remove(store, inputs=[attacks])
    with DuckDBEngine(store) as engine:
        done = prepare(engine, both, _days(1, 4))
    assert done == {
        "scans": [*_days(1, 2), date(2024, 5, 4)],
        "dos": [*_days(1, 2), date(2024, 5, 4)],
    }
    _same_answers(store, monkeypatch)


def _same_answers(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    for label in ("2024-05-01..2024-05-04", "2024-05-02", "2024-05-04"):
        for family in ("scans", "dos"):
            merged, raw = _both(store, family, label, None, monkeypatch)
            assert merged == raw, (family, label)


def _days(first: int, last: int) -> list[date]:
    return [date(2024, 5, d) for d in range(first, last + 1)]


@pytest.fixture(scope="module")
def captured(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Real captures: four DoS attacks of 2021Q2, a SYN scan and a DoS attack trace."""
    from teiten.enrich import open_geo
    from teiten.ingest import ingest

    root = tmp_path_factory.mktemp("captured") / "store"
    names = [
        "stopddos_amp.UDP.isakmp.pcap",
        "stopddos_amp.UDP.snmp.src161.pcapng",
        "stopddos_amp.TCP.syn.optionallyACK.optionallysamePort.pcapng",
        "stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng",
        "ppa3e_synscan.pcapng",
        "ppa1e_dosattack.pcap",
    ]
    store = Store(root)
    ingest([capture_path(n) for n in names], store, open_geo(), sensor="default")
    return store


def test_captured_events_from_fragments_equal_the_raw_ones(captured, monkeypatch):
    days = sorted(
        date.fromisoformat(p.name.removeprefix("day="))
        for p in (captured.root / "packets").glob("day=*")
    )
    labels = {d.isoformat() for d in days} | {f"{days[0]}..{days[-1]}", "2021Q2"}
    low = ScanParams(min_destinations=10, min_rate=0)
    for label in sorted(labels):
        for family, params in (("scans", None), ("scans", low), ("dos", None)):
            merged, raw = _both(captured, family, label, params, monkeypatch)
            assert merged == raw, (family, label, params)
