"""Scan thresholds scaled to the darknet's size (docs/events.md, "Scaled to the darknet").

Durumeric et al.'s 100 addresses of a /8 become ``ceil(100 × size / 2^24)``, at least 10;
a declared /8 keeps exactly today's events; explicit thresholds override and say so.
"""

from __future__ import annotations

import random

import pytest

from teiten.analyze.darknet import Darknet
from teiten.analyze.periods import parse_period
from teiten.analyze.scans import MIN_DESTINATIONS_FLOOR, ScanParams, scan_events
from teiten.store import DuckDBEngine
from teiten.store.sensors import declare_sensor

from ._events import T0, at, darknet, probes, sessions, store_with

DAY = "2024-05-01"
SLASH22 = darknet("198.51.100.0/22")  # 1,024 addresses


def _events(store, **kw):
    with DuckDBEngine(store) as engine:
        return scan_events(engine, parse_period(DAY), ScanParams(**kw))


@pytest.mark.parametrize(
    ("size", "source", "destinations", "condition"),
    [
        (256, "declared", 10, "implied"),  # /24: the floor
        (1024, "declared", 10, "implied"),  # /22
        (1 << 16, "declared", 10, "internet-wide"),  # /16: 0.39 scaled, the floor
        (1 << 20, "declared", 10, "internet-wide"),  # /12: 6.25 scaled, the floor
        (1 << 21, "declared", 13, "internet-wide"),  # /11: 12.5, rounded up
        (1 << 24, "declared", 100, "internet-wide"),  # /8: Durumeric et al.'s own
        (1 << 25, "declared", 200, "internet-wide"),  # /7
        (1024, "observed", 10, "implied"),
        (1 << 24, "observed", 100, "darknet"),  # no estimate: a rate at the darknet
        (894_784, "observed", 10, "implied"),  # 10 × size / 2^32 ≤ 1 / 480 s
        (894_785, "observed", 10, "darknet"),
        (0, "none", 10, "implied"),
    ],
)
def test_thresholds_for_the_darknet_size(size, source, destinations, condition):
    t = ScanParams().for_darknet(Darknet(size, source))
    assert (t.min_destinations, t.min_rate, t.timeout_s) == (destinations, 10.0, 480.0)
    assert t.rate_condition == condition
    assert t.min_rate_darknet == pytest.approx(10 * size / 2**32)
    assert (t.min_destinations_from, t.min_rate_from) == ("scaled", "reference")


def test_explicit_thresholds_override_and_say_so():
    t = ScanParams(min_destinations=100, min_rate=10.0).for_darknet(Darknet(1024, "declared"))
    assert (t.min_destinations, t.min_destinations_from, t.min_rate_from) == (100, "set", "set")
    one = ScanParams(min_rate=1e6).for_darknet(Darknet(1024, "declared"))
    assert (one.min_destinations, one.min_destinations_from) == (10, "scaled")
    assert one.min_rate_from == "set" and one.rate_condition == "darknet"


def _mixed(rnd: random.Random, dark: list[str]) -> tuple[list[dict], list[tuple]]:
    """Rows of sources with 5 … 300 probes, fast and slow, with repeats; and as
    ``(key, t_ns, dst)`` for the reference sessionizer."""
    rows, packets = [], []
    t0_ns = int(T0.timestamp()) * 10**9
    for s in range(30):
        count = rnd.choice([5, 9, 10, 50, 99, 100, 101, 150, 300])
        spread = rnd.choice([1, 20, 100, 3000, 20_000])  # seconds, first to last
        offsets_us = sorted(rnd.randrange(spread * 10**6) for _ in range(count))
        dsts = dark[s : s + count] if s % 3 == 0 else rnd.choices(dark, k=count)
        src = f"203.0.113.{s + 1}"
        for us, dst in zip(offsets_us, dsts, strict=True):
            rows.append({"ts": at(us / 1e6), "src": src, "dst": dst, "dport": 23})
            packets.append(((src, 23), t0_ns + us * 1000, dst))
    return rows, packets


def test_a_declared_slash8_keeps_todays_events(tmp_path):
    """Durumeric's definition is the anchor: the derived thresholds are 100 and 10 pps,
    the events those of the explicit old defaults and of a plain-Python reference."""
    rows, packets = _mixed(random.Random(7), darknet("10.0.0.0/20"))
    store = store_with(tmp_path / "s", rows)
    declare_sensor(store, "s1", addresses=1 << 24)
    scaled = _events(store)
    today = _events(store, min_destinations=100, min_rate=10.0)
    assert scaled.parameters["min_destinations"] == 100
    assert scaled.parameters["derived_from"]["min_destinations"] == "scaled"
    assert scaled.rows == today.rows and scaled.total == today.total
    expected = set()
    for (src, _), groups in sessions(packets, 480 * 10**9).items():
        for g in groups:
            seconds = max((g[-1][1] - g[0][1]) / 1e9, 1.0)
            if len({p[2] for p in g}) >= 100 and len(g) * 256 / seconds >= 10:
                expected.add((src, len(g)))
    assert {(e["source"], e["packets"]) for e in scaled.rows} == expected
    assert 0 < len(expected) < len({r["src"] for r in rows})  # some pass, some do not


def test_a_small_darknet_finds_a_scan_the_old_rule_missed(tmp_path):
    # A sweep of ~2 % of IPv4 (86 million probes, ZMap at 290 kpps for 5 minutes)
    # reaches ~20 addresses of a /22: not 100, but well over the floor.
    times = [i * 15.0 for i in range(20)]
    store = store_with(tmp_path / "s", probes("203.0.113.9", times, SLASH22[::50], dport=22))
    declare_sensor(store, "s1", addresses=1024)
    (e,) = _events(store).rows
    assert (e["source"], e["port"], e["destinations"]) == ("203.0.113.9", 22, 20)
    assert _events(store, min_destinations=100).total == 0  # the rule applied unchanged


def test_random_background_is_not_a_scan(tmp_path):
    """Many sources with a few probes each, and one source retrying a few addresses."""
    rnd = random.Random(11)
    rows = []
    for s in range(400):
        n = rnd.randint(1, MIN_DESTINATIONS_FLOOR - 1)
        times = sorted(rnd.uniform(0, 3600) for _ in range(n))
        dsts = [SLASH22[rnd.randrange(1024)] for _ in range(n)]
        src = f"100.64.{s // 250}.{s % 250 + 1}"
        rows += probes(src, times, dsts, dport=rnd.choice([23, 445, 80]))
    rows += probes("203.0.113.50", [i * 2.0 for i in range(300)], SLASH22[:3], dport=3389)
    store = store_with(tmp_path / "s", rows)
    declare_sensor(store, "s1", addresses=1024)
    assert _events(store).total == 0
    store2 = store_with(tmp_path / "t", rows + probes("203.0.113.9", range(12), SLASH22, dport=23))
    declare_sensor(store2, "s1", addresses=1024)
    assert [e["source"] for e in _events(store2).rows] == ["203.0.113.9"]


def test_json_parameters_say_the_thresholds_in_effect_and_their_origin(tmp_path):
    store = store_with(tmp_path / "s", probes("203.0.113.9", range(12), SLASH22, dport=23))
    declare_sensor(store, "s1", addresses=1024)
    data = _events(store).as_json()
    assert data["parameters"] == {
        "min_destinations": 10,
        "min_rate": 10.0,
        "timeout_s": 480.0,
        "min_rate_darknet": pytest.approx(10 * 1024 / 2**32),
        "rate_condition": "implied",
        "derived_from": {
            "min_destinations": "scaled",
            "min_rate": "reference",
            "reference": {"darknet_size": 1 << 24, "min_destinations": 100, "min_rate": 10.0},
            "min_destinations_floor": 10,
        },
    }
    set_ = _events(store, min_destinations=12, min_rate=0.0).as_json()["parameters"]
    assert set_["min_destinations"] == 12 and set_["min_rate"] == 0.0
    assert set_["derived_from"]["min_destinations"] == set_["derived_from"]["min_rate"] == "set"
    # a new declaration changes the derived thresholds (the stored events are recomputed)
    declare_sensor(store, "s1", addresses=1 << 24)
    again = _events(store)
    assert not again.reused and again.parameters["min_destinations"] == 100 and again.total == 0
