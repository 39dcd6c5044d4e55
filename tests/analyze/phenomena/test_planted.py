"""Findings, not detections, against the simulator's planted truth.

``loud-host``: calm traffic plus single hosts — a Korean ZMap host on 22/TCP on
2019-04-18, a Dutch ZMap host on 5900/TCP on 2019-05-15 (week 2019-W20), a Chinese host
on 7001/TCP over 2019-06-27 … 29. ``campaign``: calm traffic plus a campaign whose hosts
each probe 7001/TCP and 7002/TCP from 2019-04-24, and a broad 445/TCP step from
2019-05-22.
"""

from __future__ import annotations

from datetime import date

import pytest

from teiten.analyze.periods import parse_period
from teiten.store import Store

from ._stores import phenomena_of, simulated_store

PACKETS = 600_000


def _simulate(tmp_path_factory, scenario: str) -> Store:
    store, _ = simulated_store(tmp_path_factory.mktemp(scenario), scenario, PACKETS)
    return store


@pytest.fixture(scope="module")
def loud(tmp_path_factory):
    return _simulate(tmp_path_factory, "loud-host")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    return _simulate(tmp_path_factory, "campaign")


def _detections(f):
    """A finding's detections: its own and those merged into it, as (kind, subject)."""
    return [(f.kind, f.subject)] + [(m["kind"], m["subject"]) for m in f.merged]


def _about(f, *, port=None, country=None):
    for _, subject in _detections(f):
        if port is not None and subject.get("port") == port:
            return True
        if country is not None and subject.get("country") == country:
            return True
    return False


LOUD = [(22, "KR"), (5900, "NL"), (7001, "CN")]


@pytest.mark.parametrize("period", ["2019Q2", "2019-04", "2019-W16", "2019-W20", "2019-06"])
def test_a_loud_host_is_never_reported_as_a_broad_trend(loud, period):
    """Whatever a single host triggers is attributed to few hosts or one, said so in the
    text, and kept out of the report's body; calm traffic plus loud hosts has no headline."""
    findings = phenomena_of(loud, parse_period(period))
    assert not [f.title["en"] for f in findings if f.headline]
    for f in findings:
        if any(_about(f, port=p) or _about(f, country=c) for p, c in LOUD):
            if f.kind == "crossover":
                continue  # the focus country's ports, judged on their own
            assert f.attribution in ("one-host", "few-hosts"), (period, f.subject, f.attribution)
            if f.attribution == "one-host":
                assert "one host" in f.text["en"] and "1ホスト" in f.text["ja"]


def test_one_host_making_two_entrants_is_one_finding(loud):
    """In 2019-W20 the Dutch host puts both the Netherlands and 5900/TCP into the top 5:
    one finding, attributed to one host in the Netherlands on May 15."""
    findings = phenomena_of(loud, parse_period("2019-W20"))
    (finding,) = [f for f in findings if _about(f, country="NL") or _about(f, port=5900)]
    kinds = {(k, s.get("port") or s.get("country")) for k, s in _detections(finding)}
    assert {("new_entrant", "NL"), ("new_entrant", 5900)} <= kinds
    assert finding.attribution == "one-host" and not finding.headline
    assert finding.top_sources_share[0] >= 0.9
    assert finding.top_source["country"] == "NL" and "zmap" in finding.top_source["tags"]
    assert finding.top_source["first"] == finding.top_source["last"] == "2019-05-15"
    assert "May 15" in finding.text["en"] and "5月15日" in finding.text["ja"]
    behind = finding.evidence["review"]["scan_events"]  # the host's scan, ZMap-marked
    assert behind["events"] >= 1 and behind["tools"].get("zmap", 0) >= 1
    assert behind["share"] >= 0.9 and "scan event" in finding.text["en"]


def _campaign_finding(findings):
    (finding,) = [f for f in findings if _about(f, port=7001)]
    return finding


@pytest.mark.parametrize("period", ["2019Q2", "2019-05"])
def test_a_two_port_campaign_is_one_finding(campaign, period):
    finding = _campaign_finding(phenomena_of(campaign, parse_period(period)))
    assert _about(finding, port=7002)
    folded = [m for m in finding.merged if m["subject"].get("port") == 7002]
    assert folded and folded[0]["same_sources"]
    assert finding.headline and finding.attribution == "broad"
    assert abs((date.fromisoformat(finding.start) - date(2019, 4, 24)).days) <= 2
    assert "7002/TCP" in finding.text["en"] and "同じ送信元" in finding.text["ja"]
    behind = finding.evidence["review"]["scan_events"]  # the campaign's hosts scanned
    assert behind["events"] >= 5 and behind["sources"] >= 5 and 0 < behind["share"] <= 1


@pytest.mark.parametrize("period", ["2019Q2", "2019-05", "2019-06", "2019-W21", "2019-W22"])
def test_a_broad_change_keeps_its_own_date(campaign, period):
    """445/TCP steps up on 2019-05-22: quarter, months and weeks date it then (±3 days, the
    senders' ramp), even June's report and the week after, when it began before them."""
    p = parse_period(period)
    findings = phenomena_of(campaign, p)
    (surge,) = [f for f in findings if f.kind == "surge" and f.subject.get("port") == 445]
    when = date.fromisoformat(surge.evidence["change_date"])
    assert abs((when - date(2019, 5, 22)).days) <= 3, when
    assert surge.start == surge.evidence["change_date"]
    assert surge.evidence["before_period"] == (when < p.start)
    assert surge.attribution == "broad" and surge.sources > 100
    if p.kind != "week":  # a week holding the step's first days may read as a burst
        assert surge.headline
