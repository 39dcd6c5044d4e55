"""The built-in scenarios tell their story in the ground truth (the simulator as oracle)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from teiten.simulate import GroundTruth, SimulationConfig, generate_packets, load_scenario


def _truth(name: str, packets: int, sources: int) -> dict:
    config = SimulationConfig(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2019, 7, 1, tzinfo=UTC),
        packets=packets,
        sources=sources,
        seed=2,
        scenario=load_scenario(name),
    )
    truth = GroundTruth(config, "ethernet")
    for chunk in generate_packets(config):
        truth.add(chunk)
    return truth.as_json()


@pytest.fixture(scope="module")
def story():
    truth = _truth("2019q2", 400_000, 40_000)
    daily = truth["daily"]
    q2 = daily["days"].index("2019-04-01")
    return truth, daily, q2


def _event(truth: dict, ident: str) -> dict:
    return next(e for e in truth["events"] if e["id"] == ident)


def _top(daily: dict, days: slice, n: int) -> list[str]:
    totals = {port: sum(series[days]) for port, series in daily["by_port"].items()}
    return sorted(totals, key=lambda p: -totals[p])[:n]


def test_jp_445_rises_past_jp_23(story):
    truth, daily, _ = story
    jp = daily["by_country_port"]["JP"]
    jan, jun = slice(0, 31), slice(-30, None)
    assert sum(jp["23/tcp"][jan]) > 1.5 * sum(jp["445/tcp"][jan])
    assert sum(jp["445/tcp"][jun]) > 1.5 * sum(jp["23/tcp"][jun])
    observed = _event(truth, "jp-445-over-23")["observed"]
    assert "2019-03-15" <= observed["sustained_from_7d"] <= "2019-06-01"
    decline = _event(truth, "jp-mirai-decline")["observed"]
    assert decline["ratio"] < 0.6
    assert truth["by_country"]["JP"]["packets"] < 0.05 * truth["packets"]  # JP stays small


def test_3389_rises_after_bluekeep(story):
    truth, daily, _ = story
    rdp = np.array(daily["by_port"]["3389/tcp"])
    published = daily["days"].index("2019-05-14")
    assert rdp[published:].mean() > 1.5 * rdp[published - 43 : published].mean()
    assert _event(truth, "bluekeep-rdp-surge")["observed"]["ratio"] > 1.5


def test_37215_enters_in_q2(story):
    truth, daily, q2 = story
    hg532 = daily["by_port"]["37215/tcp"]
    assert sum(hg532[:q2]) <= 3  # at most a random-port masscan probe
    assert sum(hg532[q2:]) > 1000
    assert _event(truth, "hg532-campaign-enters")["observed"]["first_day"] == "2019-04-08"


def test_a_new_entrant_in_q2s_top_five(story):
    truth, daily, q2 = story
    assert "7001/tcp" in _top(daily, slice(q2, None), 5)
    assert "7001/tcp" not in _top(daily, slice(0, q2), 10)
    assert _event(truth, "weblogic-scan-enters")["observed"]["first_day"] == "2019-04-26"


def test_a_drop(story):
    truth, daily, _ = story
    observed = _event(truth, "realtek-upnp-stops")["observed"]
    assert observed["last_day"] == "2019-05-26" and observed["daily_mean_after"] == 0
    stop = daily["days"].index("2019-05-27")
    upnp = daily["by_port"]["52869/tcp"]
    assert sum(upnp[stop:]) <= 3 and min(upnp[stop - 30 : stop]) > 0


def test_calm_plants_nothing():
    truth = _truth("calm", 100_000, 0)
    assert truth["events"] == [] and truth["scenario"]["name"] == "calm"
    assert sum(truth["daily"]["probes"]) == truth["by_kind"]["probe"]
