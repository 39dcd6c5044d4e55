"""The review of detections: attribution from the store, thresholds, merging, headlines.

The store is the one of tests/analyze/test_rankings_attribution.py (2019-05-01): one ZMap
host sends 500 SYNs to 22/tcp; 300 hosts one SYN each to 23/tcp; 3 hosts 100 SYNs each and
200 hosts one each to 80/tcp.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner

from analyze.test_rankings_attribution import store as ingested  # noqa: F401 (a fixture)
from teiten.analyze.periods import parse_period
from teiten.analyze.phenomena import PhenomenaSettings
from teiten.analyze.phenomena.attribution import Contributors, contributors
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.review import _groups, _half_mass_days, _Judged, _merge
from teiten.cli import main
from teiten.store import DuckDBEngine, Store

from ._stores import simulated_store

Q2 = parse_period("2019Q2")
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


@pytest.fixture(scope="module")
def store(ingested):  # noqa: F811 (the imported fixture)
    return Store(ingested, create=False)


def _entrant(port: int) -> Finding:
    return Finding(
        kind="new_entrant",
        subject={"proto": "tcp", "port": port},
        title={"ja": "", "en": ""},
        text={"ja": "", "en": ""},
    )


def _who(store, port):
    with DuckDBEngine(store) as engine:
        return contributors(engine, _entrant(port), Q2.start, Q2.end, threshold=0.5)


def test_one_zmap_host_is_one_host(store):
    who = _who(store, 22)
    assert who.attribution == "one-host"
    assert who.sources == 1 and who.packets == 500
    assert who.top_sources_share == [1.0, 1.0]
    assert who.top_source["tags"] == ["zmap"]
    assert who.top_source["first"] == who.top_source["last"] == "2019-05-01"
    assert "address" not in json.dumps(who.as_json()) and not IPV4.search(json.dumps(who.as_json()))


def test_three_hosts_are_few_hosts_and_many_are_broad(store):
    few, broad = _who(store, 80), _who(store, 23)
    assert few.attribution == "few-hosts" and few.top_sources_share == [0.2, 0.6]
    assert broad.attribution == "broad" and broad.sources == 300
    assert broad.top_sources_share[0] == pytest.approx(1 / 300, abs=1e-6)


def test_a_one_day_burst_has_its_packets_on_one_day(store):
    assert _half_mass_days(_who(store, 22)) == 1


def _judged(kind, subject, weights, *, score=1.0, start="2019-05-01", notable=True):
    packets = sum(weights.values())
    who = Contributors(
        packets, len(weights), [0.1, 0.2], 0.1, {}, "broad", None, None, [packets], weights
    )
    finding = Finding(
        kind=kind,
        subject=subject,
        title={"ja": f"{subject}の検出", "en": f"Detection of {subject}"},
        text={"ja": "本文。", "en": "Text."},
        score=score,
        start=start,
        notable=notable,
    )
    return _Judged(finding, who)


def test_detections_made_by_the_same_sources_are_one_finding():
    campaign = {bytes([i]): 10 for i in range(20)}
    other = {bytes([100 + i]): 10 for i in range(20)}
    a = _judged("surge", {"proto": "tcp", "port": 7001}, campaign, score=0.9, start="2019-04-26")
    b = _judged("surge", {"proto": "tcp", "port": 7002}, campaign, score=0.4, start="2019-05-05")
    c = _judged("surge", {"proto": "tcp", "port": 3389}, other, score=0.8, start="2019-05-14")
    groups = _groups([a, b, c], PhenomenaSettings())
    assert sorted(len(g) for g in groups) == [1, 2]
    (pair,) = [g for g in groups if len(g) == 2]
    merged = _merge(pair).finding
    assert merged.subject == {"proto": "tcp", "port": 7001}
    assert [m["subject"] for m in merged.merged] == [{"proto": "tcp", "port": 7002}]
    assert merged.merged[0]["same_sources"] is True
    assert merged.start == "2019-04-26"
    assert "7002" in merged.text["en"] and "同じ送信元" in merged.text["ja"]


def test_sharing_a_few_sources_is_not_enough():
    """Merging needs each detection's packets mostly (50 %) sent by the other's sources."""
    a = {bytes([i]): 10 for i in range(10)}
    b = {bytes([i]): 10 for i in range(5, 25)}  # shares 5 of 20: 25 % of its packets
    x = _judged("surge", {"country": "CN"}, a)
    y = _judged("surge", {"country": "US"}, b)
    assert len(_groups([x, y], PhenomenaSettings())) == 2
    assert len(_groups([x, y], PhenomenaSettings(merge_overlap=0.25))) == 1


def test_a_surge_and_a_drop_of_one_port_are_one_finding_led_by_the_dated_change():
    up = _judged("surge", {"proto": "tcp", "port": 52869}, {b"a": 1}, start="2019-05-09")
    down = _judged("drop", {"proto": "tcp", "port": 52869}, {b"b": 1}, start="2019-05-27")
    entered = _judged("new_entrant", {"proto": "tcp", "port": 52869}, {b"c": 1}, score=9.0)
    (group,) = _groups([down, entered, up], PhenomenaSettings())
    merged = _merge(group).finding
    assert merged.kind == "surge" and merged.start == "2019-05-09"
    assert {m["kind"] for m in merged.merged} == {"drop", "new_entrant"}
    assert all(not m["same_sources"] for m in merged.merged)


def test_the_review_thresholds_are_settings():
    from teiten.errors import OptionError

    for bad in ({"min_volume": 1.5}, {"merge_overlap": 0}, {"headlines": 0}, {"min_days": 0}):
        with pytest.raises(OptionError):
            PhenomenaSettings(**bad)


def test_cli_json_gives_each_finding_its_attribution(tmp_path):
    """``teiten phenomena --json`` on the 2019q2 scenario (small): the issue's fields, no
    address anywhere."""
    from datetime import UTC, datetime

    store, _ = simulated_store(
        tmp_path,
        "2019q2",
        300_000,
        seed=7,
        start=datetime(2019, 3, 1, tzinfo=UTC),
        end=datetime(2019, 6, 1, tzinfo=UTC),
    )
    args = ["phenomena", "--store", str(store.root), "--period", "2019-05", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not IPV4.search(result.output)
    findings = json.loads(result.output)["findings"]
    assert findings
    for f in findings:
        for key in (
            "kind",
            "subject",
            "start",
            "end",
            "sources",
            "top_sources_share",
            "attribution",
            "merged",
            "headline",
            "knowledge",
            "text",
            "evidence",
        ):
            assert key in f, key
        assert f["attribution"] in ("broad", "few-hosts", "one-host")
        assert date.fromisoformat(f["start"]) <= date.fromisoformat(f["end"])
        assert set(f["text"]) == {"ja", "en"}
    assert sum(f["headline"] for f in findings) <= 5
