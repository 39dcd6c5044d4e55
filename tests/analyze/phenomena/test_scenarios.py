"""The simulator as oracle: the 2019q2 scenario's planted events are found with their
dates, and the calm scenario yields none of them."""

import json
from datetime import date

import pytest
from click.testing import CliRunner

from teiten.analyze.periods import parse_period
from teiten.cli import main

from ._stores import phenomena_of, simulated_store

Q2 = parse_period("2019Q2")


def _store(tmp_path_factory, scenario):
    return simulated_store(tmp_path_factory.mktemp(scenario), scenario, 1_500_000)


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    store, truth = _store(tmp_path_factory, "2019q2")
    return store, truth, phenomena_of(store, Q2)


@pytest.fixture(scope="module")
def calm(tmp_path_factory):
    store, _ = _store(tmp_path_factory, "calm")
    return store, phenomena_of(store, Q2)


def _event(truth, event_id):
    (event,) = [e for e in truth["events"] if e["id"] == event_id]
    return event


def _port_change(findings, kind, port):
    """Dates of the ``kind`` changes of ``port``: findings' and those merged into them."""
    found = [
        date.fromisoformat(f.evidence["change_date"])
        for f in findings
        if f.kind == kind and f.subject.get("port") == port
    ]
    return found + [
        date.fromisoformat(m["start"])
        for f in findings
        for m in f.merged
        if m["kind"] == kind and m["subject"].get("port") == port
    ]


@pytest.mark.parametrize(
    ("event_id", "kind", "port"),
    [
        ("bluekeep-rdp-surge", "surge", 3389),
        ("hg532-campaign-enters", "surge", 37215),
        ("weblogic-scan-enters", "surge", 7001),
        ("realtek-upnp-stops", "drop", 52869),
    ],
)
def test_planted_changes_are_found_on_their_dates(story, event_id, kind, port):
    _, truth, findings = story
    planted = date.fromisoformat(_event(truth, event_id)["start"][:10])
    found = _port_change(findings, kind, port)
    assert any(abs((d - planted).days) <= 2 for d in found), (planted, found)


def test_the_bluekeep_surge_links_its_cve(story):
    _, _, findings = story
    (surge,) = [f for f in findings if f.kind == "surge" and f.subject.get("port") == 3389]
    assert surge.knowledge[0]["id"] == "CVE-2019-0708" and surge.knowledge[0]["near_change"]
    assert "CVE-2019-0708" in surge.text["ja"] and "CVE-2019-0708" in surge.text["en"]
    assert "2019年5月" in surge.text["ja"]


def test_445_overtakes_23_from_japan(story):
    _, truth, findings = story
    (cross,) = [
        f
        for f in findings
        if f.kind == "crossover"
        and (f.subject["rising"], f.subject["falling"]) == ("445/tcp", "23/tcp")
    ]
    assert cross.subject["country"] == "JP"
    assert cross.evidence["statistic"]["days_above"] >= 30
    sustained = _event(truth, "jp-445-over-23")["observed"]["sustained_from_7d"]
    assert cross.evidence["sustained_from"] is not None
    assert (
        abs(
            (
                date.fromisoformat(cross.evidence["sustained_from"]) - date.fromisoformat(sustained)
            ).days
        )
        <= 14
    )
    assert "445/TCP" in cross.text["ja"] and "上回りました" in cross.text["ja"]


def test_japans_mirai_share_falls(story):
    _, _, findings = story
    (trend,) = [f for f in findings if f.kind == "mirai_share"]
    assert trend.subject == {"country": "JP", "tag": "mirai"}
    assert trend.evidence["end_share"] < trend.evidence["start_share"] - 0.1
    assert trend.evidence["statistic"]["mann_kendall_z"] < -3


def _detections(findings):
    """Every detection as (kind, subject): the findings' and those merged into them."""
    return [(f.kind, f.subject) for f in findings] + [
        (m["kind"], m["subject"]) for f in findings for m in f.merged
    ]


def test_7001_is_a_new_entrant(story):
    _, _, findings = story
    assert ("new_entrant", {"proto": "tcp", "port": 7001}) in _detections(findings)


def test_findings_are_ordered_and_carry_both_languages(story):
    """Headlines first, then the rest; each part by score."""
    _, _, findings = story
    flags = [f.headline for f in findings]
    assert flags == sorted(flags, reverse=True)
    for part in (True, False):
        scores = [f.score for f in findings if f.headline is part]
        assert scores == sorted(scores, reverse=True)
    for f in findings:
        assert f.title["ja"] and f.title["en"] and f.text["ja"] and f.text["en"]


def test_calm_has_none_of_the_planted_events(calm):
    """Without the scenario's changes, none of its events is reported. (Calm traffic still
    has real changes: heavy-tailed sources start and stop, and the detectors say so.)"""
    _, findings = calm
    found = {(f.kind, f.subject.get("port")) for f in findings}
    for planted in [("surge", 3389), ("surge", 37215), ("surge", 7001), ("drop", 52869)]:
        assert planted not in found
    assert not [f for f in findings if f.kind in ("new_entrant", "mirai_share")]
    assert not [f for f in findings if f.headline], [f.title["en"] for f in findings]
    assert not [
        f
        for f in findings
        if f.kind == "crossover"
        and (f.subject["rising"], f.subject["falling"]) == ("445/tcp", "23/tcp")
    ]


def test_an_empty_period_has_no_findings(story):
    store, _, _ = story
    assert phenomena_of(store, parse_period("2020Q1")) == []


def test_cli_json(story):
    store, _, findings = story
    result = CliRunner().invoke(
        main, ["phenomena", "--store", str(store.root), "--period", "2019Q2", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"]["label"] == "2019Q2"
    assert len(data["findings"]) == len(findings)
    first = data["findings"][0]
    assert set(first) >= {"kind", "subject", "title", "text", "evidence", "knowledge", "score"}
    text = CliRunner().invoke(
        main, ["phenomena", "--store", str(store.root), "--period", "2019Q2", "--lang", "ja"]
    )
    assert text.exit_code == 0 and "パケット" in text.output


def test_nothing_cites_what_was_unknown_at_the_periods_end(story):
    """The story's ports have CVEs published later (7001/tcp: CVE-2020-14882, 445/tcp:
    CVE-2020-0796, 22/tcp: CVE-2024-6387); no finding of 2019Q2 names one."""
    from teiten.knowledge import load_knowledge

    store, _, findings = story
    end = Q2.last_day
    kb = load_knowledge()
    future = {c.id for e in kb for c in e.cves if c.first_public and c.first_public > end}
    future |= {m.name for e in kb for m in e.malware if m.reported and m.reported > end}
    assert {"CVE-2020-14882", "CVE-2020-0796", "CVE-2024-6387"} <= future
    for f in findings:
        for item in f.knowledge:
            assert item["id"] not in future, (f.kind, f.subject, item)
            public = item.get("disclosed") or item["published"]  # vendor's day, else NVD's
            assert public is None or date.fromisoformat(public) <= end
    result = CliRunner().invoke(
        main, ["phenomena", "--store", str(store.root), "--period", "2019Q2", "--json"]
    )
    assert result.exit_code == 0 and not {i for i in future if i in result.output}


def test_a_change_begun_before_a_monthly_period_keeps_its_own_date(story):
    """7001/TCP starts on 2019-04-26: May's report dates it then (±2 days, the planted
    ramp's and the detector's resolution), not on May 1."""
    store, truth, _ = story
    planted = date.fromisoformat(_event(truth, "weblogic-scan-enters")["start"][:10])
    may = parse_period("2019-05")
    surges = [  # the 7001/TCP campaign's finding is led by its dated surge
        f for f in phenomena_of(store, may) if f.kind == "surge" and f.subject.get("port") == 7001
    ]
    dates = [date.fromisoformat(f.evidence["change_date"]) for f in surges]
    assert may.start not in dates, dates
    surge = surges[dates.index(min(dates))]
    when = min(dates)
    assert abs((when - planted).days) <= 2 and when < may.start, (planted, when)
    assert surge.evidence["before_period"] and surge.evidence["start_known"]
    assert f"2019年4月{when.day}日頃から" in surge.text["ja"]
    assert f"April {when.day}, 2019" in surge.text["en"]
    # the chart shows the days judged before the period and the period itself
    assert surge.evidence["series"]["dates"][0] <= when.isoformat()
    assert surge.evidence["series"]["dates"][-1] == "2019-05-31"


def test_a_stores_first_period_has_no_new_entrants(story):
    """The store starts on 2019-01-01: January has no previous month to compare with."""
    from teiten.analyze.phenomena import previous_observed
    from teiten.store import DuckDBEngine

    store, _, _ = story
    january = parse_period("2019-01")
    with DuckDBEngine(store) as engine:
        assert not previous_observed(engine, january)
        assert previous_observed(engine, parse_period("2019-02"))
    assert not [f for f in phenomena_of(store, january) if f.kind == "new_entrant"]
    args = ["phenomena", "--store", str(store.root), "--period", "2019-01"]
    data = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert data["previous_data"] is False
    assert not [f for f in data["findings"] if f["kind"] == "new_entrant"]
    text = CliRunner().invoke(main, [*args, "--lang", "ja"])
    assert "前月のデータがないため比較できません" in text.output
    text = CliRunner().invoke(main, [*args, "--lang", "en"])
    assert "No data for the previous month: no comparison" in text.output
