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


def test_the_2019q2_weblogic_scanners_probe_both_ports():
    from teiten.simulate.scenario import port_match

    weblogic = load_scenario("2019q2").catalogue()["weblogic-scan"]
    assert weblogic.dport_per == "all" and port_match(weblogic, 7001, "tcp") == "no"


@pytest.fixture(scope="module")
def loud():
    return _truth("loud-host", 300_000, 0)


def test_loud_hosts_are_planted_whole_on_their_days(loud):
    hosts = {h["id"]: h for h in loud["hosts"]}
    assert set(hosts) == {"kr-zmap-ssh", "nl-zmap-vnc", "cn-weblogic"}
    for host in hosts.values():
        assert host["packets"] == host["requested"] and host["address"]
        assert set(host["daily"]) <= {d[:10] for d in (host["start"], host["end"])} | {
            "2019-06-28", "2019-06-29"}  # fmt: skip
    kr = hosts["kr-zmap-ssh"]
    assert (kr["country"], kr["daily"]) == ("KR", {"2019-04-18": 16_000})
    assert loud["by_behaviour"]["kr-zmap-ssh"]["sources"] == 1


def test_a_loud_host_dominates_its_country_and_port_on_its_day(loud):
    daily = loud["daily"]
    day = daily["days"].index("2019-04-18")
    ssh = np.array(daily["by_port"]["22/tcp"])
    assert ssh[day] > 10 * np.median(ssh)
    q2 = slice(daily["days"].index("2019-04-01"), None)
    korea = sum(sum(s[q2]) for s in daily["by_country_port"]["KR"].values())
    assert 16_000 / korea > 0.4  # as the real host's 42 % of Korea's quarter
    week = slice(daily["days"].index("2019-05-13"), daily["days"].index("2019-05-20"))
    vnc = daily["by_country_port"]["NL"]["5900/tcp"]
    assert sum(vnc[week]) >= 4000 and sum(vnc[week.start - 7 : week.start]) < 400


@pytest.fixture(scope="module")
def campaign():
    config = SimulationConfig(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2019, 7, 1, tzinfo=UTC),
        packets=300_000,
        seed=2,
        scenario=load_scenario("campaign"),
    )
    truth = GroundTruth(config, "ethernet")
    sources: dict[int, set[int]] = {7001: set(), 7002: set()}
    for chunk in generate_packets(config):
        truth.add(chunk)
        names = np.array([b.name for b in chunk.population.behaviours])
        mine = names[chunk.behaviour] == "two-port-scan"
        for port, seen in sources.items():
            seen.update(chunk.src[mine & (chunk.dport == port)].tolist())
    return truth.as_json(), sources


def test_the_campaign_enters_on_both_ports_from_the_same_hosts(campaign):
    truth, sources = campaign
    assert len(sources[7001]) > 100 and sources[7001] == sources[7002]
    daily = truth["daily"]
    enters = daily["days"].index("2019-04-24")
    for port in ("7001/tcp", "7002/tcp"):
        assert (
            sum(daily["by_port"][port][:enters]) == 0 and min(daily["by_port"][port][enters:]) > 0
        )
    q2 = daily["days"].index("2019-04-01")
    assert "7001/tcp" in _top(daily, slice(q2, None), 5)
    assert _event(truth, "two-port-scan-enters")["observed"]["first_day"] == "2019-04-24"


def test_the_campaign_scenarios_broad_surge(campaign):
    truth, _ = campaign
    assert _event(truth, "smb-surge")["observed"]["ratio"] > 1.8
    smb = np.array(truth["daily"]["by_port"]["445/tcp"])
    at = truth["daily"]["days"].index("2019-05-22")
    assert smb[at:].mean() > 1.8 * smb[at - 28 : at].mean()
