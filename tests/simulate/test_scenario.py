"""Scenario files: the vocabulary parses, and every broken file names its entry and field."""

from __future__ import annotations

from importlib import resources

import pytest

from teiten.simulate import (
    BUILTIN_SCENARIOS,
    CATALOGUE,
    ScenarioError,
    load_scenario,
    parse_scenario,
)

GOOD = """
name = "test"
description = "one of each"

[behaviours.mirai]
ports = { 23 = 0.9, 2323 = 0.1 }
countries = { JP = 0.5, "*" = 0.5 }

[[campaigns]]
id = "hg532"
like = "mirai"
ports = { 37215 = 1.0 }
weight = 0.05
source_share = 0.02

[[changes]]
id = "decline"
kind = "ramp"
select = { behaviour = "mirai", country = ["JP", "KR"] }
from = 2019-01-15
to = 2019-03-01T12:00:00
factor = [1.0, 0.4]

[[changes]]
id = "surge"
kind = "step"
select = { port = "3389/tcp" }
at = 2019-05-14
factor = 3
half_life_days = 10

[[changes]]
id = "in"
kind = "enter"
select = { behaviour = "hg532" }
at = 2019-04-01

[[changes]]
id = "out"
kind = "leave"
select = { behaviour = "redis-scan" }
at = 2019-06-01

[[crossovers]]
id = "x"
rising = { country = "JP", port = "445/tcp" }
falling = { country = "JP", port = "23/tcp" }
"""


def test_a_good_file_parses_into_the_vocabulary():
    s = parse_scenario(GOOD, "good.toml")
    assert s.name == "test" and s.source == "good.toml"
    assert [c.kind for c in s.changes] == ["ramp", "step", "enter", "leave"]
    ramp, step, _, _ = s.changes
    assert ramp.select.countries == ("JP", "KR") and ramp.factor == (1.0, 0.4)
    assert ramp.end is not None and ramp.end.hour == 12 and ramp.end.tzinfo is not None
    assert step.select.ports == ((3389, "tcp"),) and step.half_life_days == 10
    catalogue = s.catalogue()
    assert catalogue["hg532"].dports == ((37215, 1.0),) and catalogue["hg532"].seq == "dst"
    assert catalogue["mirai"].dports == ((23, 0.9), (2323, 0.1))
    assert dict(catalogue["mirai"].countries) == {"JP": 0.5, "*": 0.5}
    assert CATALOGUE["mirai"].dports != catalogue["mirai"].dports  # the catalogue is untouched
    assert s.crossovers[0].rising.ports == ((445, "tcp"),)


def test_change_levels_over_time():
    import numpy as np

    ramp, step, enter, leave = parse_scenario(GOOD).changes
    day = 86_400.0
    t0 = ramp.start.timestamp()
    t1 = ramp.end.timestamp()
    levels = ramp.level(np.array([t0 - day, t0, (t0 + t1) / 2, t1, t1 + day]))
    assert levels.tolist() == pytest.approx([1.0, 1.0, 0.7, 0.4, 0.4])
    at = step.start.timestamp()
    assert step.level(np.array([at - 1, at, at + 10 * day])).tolist() == pytest.approx(
        [1.0, 3.0, 2.0]
    )
    at = enter.start.timestamp()
    assert enter.level(np.array([at - 1, at])).tolist() == [0.0, 1.0]
    at = leave.start.timestamp()
    assert leave.level(np.array([at - 1, at])).tolist() == [1.0, 0.0]


def test_builtins_load_and_are_the_package_files():
    folder = resources.files("teiten.simulate") / "scenarios"
    files = sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )
    assert sorted(BUILTIN_SCENARIOS) == files
    for name in BUILTIN_SCENARIOS:
        s = load_scenario(name)
        assert s.name == name and s.source == f"builtin:{name}" and s.description
    assert load_scenario("calm").changes == ()
    assert {c.kind for c in load_scenario("2019q2").changes} == {"ramp", "step", "enter", "leave"}


def test_a_scenario_file_by_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(GOOD)
    assert load_scenario(path).source == str(path)
    with pytest.raises(ScenarioError, match=r"nope\.toml: no such scenario file.*2019q2, calm"):
        load_scenario(tmp_path / "nope.toml")


def _change(body: str) -> str:
    return f'name = "t"\n[[changes]]\nid = "c1"\n{body}\n'


BROKEN = [
    ("name = ", None, None, "not valid TOML"),
    ('description = "no name"', None, "name", "non-empty string 'name'"),
    ('name = "t"\ncolour = 1', None, "colour", "unknown key"),
    ('name = "t"\n[behaviours.mirai]\nweight = -1', "behaviours.mirai", "weight", "≥ 0"),
    ('name = "t"\n[behaviours.nosuch]\nweight = 1', "behaviours.nosuch", None, "no such behaviour"),
    ('name = "t"\n[behaviours.mirai]\nports = { 70000 = 1 }', "behaviours.mirai", "ports",
     "not a number in 1–65535"),
    ('name = "t"\n[behaviours.mirai]\ncountries = { Japan = 1 }', "behaviours.mirai", "countries",
     "two-letter country code"),
    ('name = "t"\n[behaviours.udp-probe]\nports = { 9999 = 1 }', "behaviours.udp-probe", None,
     "no payload for ports"),
    ('name = "t"\n[[campaigns]]\nid = "c"\nlike = "worm"\nweight = 1\nsource_share = 1',
     "campaigns[0] (c)", "like", "must name a catalogue behaviour"),
    ('name = "t"\n[[campaigns]]\nid = "mirai"\nlike = "mirai"\nweight = 1\nsource_share = 1',
     "campaigns (mirai)", "id", "names a catalogue behaviour"),
    ('name = "t"\n[[campaigns]]\nid = "c"\nlike = "mirai"\nweight = 1', "campaigns[0] (c)",
     "source_share", "its own share"),
    (_change('kind = "jump"'), "changes[0] (c1)", "kind", "one of ramp, step, enter, leave"),
    (_change('kind = "enter"\nat = 2019-01-01'), "changes[0] (c1)", "select", "needs a selection"),
    (_change('kind = "enter"\nselect = { behaviour = "mirai" }'), "changes[0] (c1)", "at",
     "needs 'at'"),
    (_change('kind = "enter"\nselect = { behaviour = "mirai" }\nat = "2019-01-01"'),
     "changes[0] (c1)", "at", "TOML date"),
    (_change('kind = "enter"\nselect = { behaviour = "nosuch" }\nat = 2019-01-01'),
     "changes[0] (c1)", "select.behaviour", "no behaviour or campaign 'nosuch'"),
    (_change('kind = "enter"\nselect = { country = "jp" }\nat = 2019-01-01'),
     "changes[0] (c1)", "select.country", "two-letter"),
    (_change('kind = "enter"\nselect = { port = "23" }\nat = 2019-01-01'),
     "changes[0] (c1)", "select.port", "PORT/tcp"),
    (_change('kind = "enter"\nselect = { behaviour = "mirai", port = "23/tcp" }\nat = 2019-01-01'),
     "changes[0] (c1)", "select.port", "mirai spread packets over several ports"),
    (_change('kind = "enter"\nselect = {}\nat = 2019-01-01'), "changes[0] (c1)", "select",
     "selects everything"),
    (_change('kind = "enter"\nselect = { behaviour = "mirai" }\nat = 2019-01-01\nfactor = 2'),
     "changes[0] (c1)", "factor", "unknown key"),
    (_change('kind = "ramp"\nselect = { behaviour = "mirai" }\nfrom = 2019-02-01\n'
             "to = 2019-01-01\nfactor = [1, 0]"), "changes[0] (c1)", "to", "after 'from'"),
    (_change('kind = "ramp"\nselect = { behaviour = "mirai" }\nfrom = 2019-01-01\n'
             "to = 2019-02-01\nfactor = 0.5"), "changes[0] (c1)", "factor", "[from, to]"),
    (_change('kind = "step"\nselect = { behaviour = "mirai" }\nat = 2019-01-01\nfactor = 0'),
     "changes[0] (c1)", "factor", "> 0"),
    (_change('kind = "step"\nselect = { behaviour = "mirai" }\nat = 2019-01-01\nfactor = 2\n'
             "half_life_days = -3"), "changes[0] (c1)", "half_life_days", "> 0"),
    (_change('kind = "enter"\nselect = { behaviour = "mirai" }\nat = 2019-01-01') + (
        '[[changes]]\nid = "c1"\nkind = "leave"\nselect = { behaviour = "zmap" }\nat = 2019-02-01'
    ), None, "id", "'c1' repeats"),
    ('name = "t"\n[[crossovers]]\nid = "x"\nrising = { port = "445/tcp" }', "crossovers[0] (x)",
     "falling", "needs both series"),
    ('name = "t"\n[[crossovers]]\nid = "x"\nrising = { port = ["445/tcp"] }\n'
     'falling = { port = "23/tcp" }', "crossovers[0] (x)", "rising", "one port"),
]  # fmt: skip


def _host(body: str, **fields: str) -> str:
    keys = {"like": '"zmap"', "country": '"KR"', "ports": "{ 22 = 1.0 }", "packets": "100",
            "at": "2019-04-18", "until": "2019-04-19"} | fields  # fmt: skip
    lines = [f"{k} = {v}" for k, v in keys.items() if v]
    return 'name = "t"\n[[hosts]]\nid = "h"\n' + "\n".join(lines) + f"\n{body}\n"


H = "hosts[0] (h)"
BROKEN += [
    (_host("colour = 1"), H, "colour", "unknown key"),
    (_host("", packets="0"), H, "packets", "whole number of packets > 0"),
    (_host("", packets="-5"), H, "packets", "> 0"),
    (_host("", packets="1.5"), H, "packets", "whole number"),
    (_host("", packets=""), H, "packets", "a host needs 'packets'"),
    (_host("", until="2019-04-18"), H, "until", "after 'at'"),
    (_host("", until="2019-04-17T23:00:00"), H, "until", "after 'at'"),
    (_host("", at='"2019-04-18"'), H, "at", "TOML date"),
    (_host("", like='"zmapp"'), H, "like", "must name a catalogue behaviour"),
    (_host("", country='"UK"'), H, "country", "not an ISO 3166 country code"),
    (_host("", country='"kr"'), H, "country", "not an ISO 3166 country code"),
    (_host("", ports=""), H, "ports", "needs its destination 'ports'"),
    (_host("", ports='"22/udp"'), H, "ports", "not PORT/tcp"),
    (_host("", ports="{ 0 = 1 }"), H, "ports", "not a number in 1–65535"),
    (_host("", like='"backscatter-synack"'), H, "ports", "leave 'ports' out"),
    (_host("", like='"udp-probe"', ports='"9999/udp"'), H, None, "no payload for ports"),
    (_host("", **{"id": '"mirai"'}).replace('id = "h"\n', ""), "hosts (mirai)", "id",
     "names a behaviour or campaign"),
    ('name = "t"\n[[hosts]]\nlike = "zmap"', "hosts[0]", "id", "needs an 'id'"),
    ('name = "t"\n[[campaigns]]\nid = "c"\nlike = "web-scan"\nweight = 1\nsource_share = 1\n'
     'ports_per_source = "both"', "campaigns[0] (c)", "ports_per_source", "one of 'one', 'all'"),
    ('name = "t"\n[behaviours.zmap]\nports_per_source = "all"', "behaviours.zmap", None,
     "needs listed ports"),
    ('name = "t"\n[behaviours.icmp-echo]\nports_per_source = "one"', "behaviours.icmp-echo",
     None, "needs a dports table"),
]  # fmt: skip


def test_hosts_and_ports_per_source_parse():
    s = parse_scenario(
        _host("", ports='["5900/tcp", "5901/tcp"]', at="2019-05-15T08:00:00", until="2019-05-16")
        + '[[campaigns]]\nid = "c"\nlike = "web-scan"\nports = { 7001 = 0.85, 7002 = 0.15 }\n'
        'ports_per_source = "all"\nweight = 0.1\nsource_share = 0.01\n',
        "h.toml",
    )
    (host,) = s.hosts
    assert (host.id, host.like, host.country, host.packets) == ("h", "zmap", "KR", 100)
    assert host.ports == ((5900, 1.0), (5901, 1.0)) and host.start.hour == 8
    assert host.start.tzinfo is not None and host.labels() == ["5900/tcp", "5901/tcp"]
    b = host.behaviour()
    assert b.ip_id == 54321 and b.dport_per == "all" and b.walk and dict(b.countries) == {"KR": 1}
    assert s.catalogue()["c"].dport_per == "all" and "h" not in s.catalogue()
    assert s.as_json()["hosts"][0]["ports"] == {"5900/tcp": 1.0, "5901/tcp": 1.0}
    assert "hosts" not in load_scenario("calm").as_json()  # old digests stay put
    victim = parse_scenario(_host("", like='"backscatter-synack"', ports=""))
    assert victim.hosts[0].ports == () and not victim.hosts[0].behaviour().walk


@pytest.mark.parametrize(("text", "entry", "field", "message"), BROKEN)
def test_broken_files_name_the_entry_and_field(tmp_path, text, entry, field, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    error = caught.value
    assert error.path == str(path) and str(error).startswith(str(path))
    assert (error.entry, error.field) == (entry, field)
    assert message in error.message


def test_an_unreadable_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'name = "caf\xe9"')
    with pytest.raises(ScenarioError, match="cannot read it"):
        load_scenario(path)
