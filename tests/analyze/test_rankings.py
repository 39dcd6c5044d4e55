"""Rankings over a small hand-built store: ranks, previous ranks, metrics, filters."""

import pytest

from teiten.analyze.periods import parse_period
from teiten.analyze.rankings import Filters, rank
from teiten.errors import OptionError
from teiten.store import DuckDBEngine, InputRecord, Store


def _rows():
    rows = []

    def add(ts, n, dport, *, sources, country="CN", proto=6, kind="probe", sensor="s1", **kw):
        for i in range(n):
            rows.append(
                {
                    "ts": ts,
                    "src": f"192.0.{dport % 250}.{i % sources + 1}",
                    "dst": "198.51.100.7",
                    "dport": dport,
                    "proto": proto,
                    "kind": kind,
                    "country": country,
                    "sensor": sensor,
                    **kw,
                }
            )

    # 2019Q1: 445 > 22 > 23
    add("2019-02-01T00:00:00", 3, 445, sources=3, country="US")
    add("2019-02-01T00:00:00", 2, 22, sources=1, country="JP")
    add("2019-03-31T23:59:59", 1, 23, sources=1, country="JP")
    # 2019Q2: 23 (5 pkts, 3 sources) > 445 (4, 4) > ICMP echo (2) > 22 (1)
    add("2019-04-01T00:00:00", 5, 23, sources=3, country="JP", sensor="s2")
    add("2019-05-01T00:00:00", 4, 445, sources=4, country="US")
    add("2019-06-30T23:59:59", 1, 22, sources=1, country="CN")
    add("2019-05-02T00:00:00", 2, 8, sources=1, proto=1, icmp_type=8, country="JP")
    # backscatter, and a packet just outside the quarter
    add("2019-05-03T00:00:00", 6, 40000, sources=2, kind="backscatter", country="BR")
    add("2019-07-01T00:00:00", 9, 3389, sources=1, country="RU")
    return rows


@pytest.fixture(scope="module")
def engine(tmp_path_factory, make_rows_module):
    store = Store(tmp_path_factory.mktemp("rank") / "store")
    writer = store.writer("s1", "g", "e")
    writer.write(make_rows_module(_rows()))
    writer.commit([InputRecord("b" * 64, "x", 1, 1, 0)])
    with DuckDBEngine(store) as eng:
        yield eng


@pytest.fixture(scope="module")
def make_rows_module():
    from conftest import rows_table

    return rows_table


Q2 = parse_period("2019Q2")


def keys(ranking):
    return [(r["rank"], r.get("port"), r["proto"], r["previous_rank"]) for r in ranking.rows]


def test_ports_by_packets_with_previous_ranks(engine):
    r = rank(engine, "ports", Q2)
    assert keys(r) == [
        (1, 23, "tcp", 3),
        (2, 445, "tcp", 1),
        (3, None, "icmp", None),
        (4, 22, "tcp", 2),
    ]
    assert r.rows[0]["service"] == "telnet"
    assert r.rows[2]["icmp_type"] == 8
    assert r.total == {"packets": 12, "sources": 9, "sensors": 2}
    assert r.rows[0]["share"] == pytest.approx(5 / 12, abs=1e-6)
    assert r.previous.label == "2019Q1"


def test_sources_metric_ranks_by_distinct_sources(engine):
    r = rank(engine, "ports", Q2, metric="sources")
    assert [(x["port"], x["sources"]) for x in r.rows][:2] == [(445, 4), (23, 3)]
    assert r.rows[0]["share"] == pytest.approx(4 / 9, abs=1e-6)


def test_per_sensor_metric_divides_by_observing_sensors(engine):
    r = rank(engine, "ports", Q2, metric="per-sensor")
    assert r.rows[0]["port"] == 23
    assert r.rows[0]["per_sensor"] == pytest.approx(5 / 2)


def test_limit_keeps_real_previous_rank(engine):
    r = rank(engine, "ports", Q2, limit=1)
    assert len(r.rows) == 1 and r.rows[0]["previous_rank"] == 3


def test_countries_and_country_filter(engine):
    r = rank(engine, "countries", Q2)
    assert [(x["country"], x["packets"], x["previous_rank"]) for x in r.rows] == [
        ("JP", 7, 1),
        ("US", 4, 2),
        ("CN", 1, None),
    ]
    assert r.rows[0]["name"] == "Japan"
    jp = rank(engine, "ports", Q2, filters=Filters(country="jp"))
    assert [(x["port"], x["packets"]) for x in jp.rows] == [(23, 5), (None, 2)]
    assert jp.rows[0]["previous_rank"] == 2  # JP's previous ranking: 22 first, then 23


def test_traffic_kinds(engine):
    back = rank(engine, "ports", Q2, traffic="backscatter")
    assert [(x["port"], x["packets"]) for x in back.rows] == [(40000, 6)]
    everything = rank(engine, "ports", Q2, traffic="all")
    assert everything.total["packets"] == 18


def test_sensor_and_proto_filters(engine):
    s2 = rank(engine, "ports", Q2, filters=Filters(sensor="s2"))
    assert [(x["port"], x["packets"]) for x in s2.rows] == [(23, 5)]
    assert s2.total["sensors"] == 1
    icmp = rank(engine, "ports", Q2, filters=Filters(proto="icmp"))
    assert [x["proto"] for x in icmp.rows] == ["icmp"]


@pytest.mark.parametrize("period", ["2019-04", "2019-W14", "2019-04-01", "2019-04-01..2019-04-30"])
def test_every_period_form(engine, period):
    r = rank(engine, "ports", parse_period(period))
    assert r.rows[0]["port"] == 23 and r.rows[0]["packets"] == 5


def test_bad_options(engine):
    with pytest.raises(OptionError, match="metric"):
        rank(engine, "ports", Q2, metric="bytes")
    with pytest.raises(OptionError, match="protocol"):
        rank(engine, "ports", Q2, filters=Filters(proto="tcpp"))
