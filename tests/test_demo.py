"""The demo pipeline end to end, with the simulator's ground truth as the oracle."""

import json

import pytest

from teiten.demo import run_demo
from teiten.simulate import TRUTH_FILE
from teiten.store import DuckDBEngine


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = run_demo(out, packets=200_000, seed=5)
    truth = json.loads((result.captures / TRUTH_FILE).read_text())
    return out, result, truth


def test_every_simulated_packet_is_stored_once(demo):
    _, result, truth = demo
    data = result.report.as_json()
    assert data["errors"] == [] and data["skipped"] == 0
    assert data["packets"] == truth["packets"] == 200_000
    with DuckDBEngine(result.store) as engine:
        kinds = engine.rows("SELECT kind, count(*) AS n FROM packets GROUP BY kind")
        sensors = engine.rows("SELECT sensor, count(*) AS n FROM packets GROUP BY sensor")
    assert {r["kind"]: r["n"] for r in kinds} == truth["by_kind"]
    assert {r["sensor"]: r["n"] for r in sensors} == truth["by_sensor"]


def test_ports_and_countries_match_ground_truth(demo):
    _, result, truth = demo
    with DuckDBEngine(result.store) as engine:
        ports = engine.rows(
            "SELECT proto, dport, count(*) AS n FROM packets WHERE proto IN (6, 17) GROUP BY ALL"
        )
        countries = engine.rows(
            "SELECT country, count(*) AS n, count(DISTINCT src) AS s FROM packets GROUP BY ALL"
        )
    got = {(("tcp" if r["proto"] == 6 else "udp"), str(r["dport"])): r["n"] for r in ports}
    want = {(p, port): n for p, table in truth["by_port"].items() for port, n in table.items()}
    assert got == {k: v for k, v in want.items() if k[0] in ("tcp", "udp")}
    by_country = {r["country"]: (r["n"], r["s"]) for r in countries if r["country"]}
    for cc, expected in truth["by_country"].items():
        assert by_country[cc] == (expected["packets"], expected["sources"])


def test_running_the_demo_again_adds_nothing(demo):
    out, _, truth = demo
    again = run_demo(out, packets=200_000, seed=5).report.as_json()
    assert again["packets"] == 0
    assert again["duplicates"] == truth["packets"]


def test_demo_writes_the_report_in_both_languages(demo):
    from teiten.demo import demo_reports

    out, result, _ = demo
    paths = demo_reports(result.store, out / "reports", formats=("html",))
    assert [p.name for p in paths] == ["report-2019Q2.ja.html", "report-2019Q2.en.html"]
    ja, en = (p.read_text(encoding="utf-8") for p in paths)
    assert "宛先ポート別パケット数" in ja and "2019年4月1日" in ja
    assert "destination ports" in en.lower()
    for prefix in ("198.18.0.", "192.0.2.", "198.51.100.", "203.0.113."):  # the sensors
        assert prefix not in ja and prefix not in en


def test_demo_imports_its_as_table_and_writes_a_feed(demo):
    import csv

    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import rank
    from teiten.demo import demo_feed
    from teiten.store.asn import as_names

    out, result, _ = demo
    with DuckDBEngine(result.store) as engine:
        ranked = rank(engine, "asns", parse_period("2019Q2"), as_names=as_names(result.store.root))
    assert ranked.rows[0]["asn"] is not None and ranked.rows[0]["name"].startswith("Simulated")
    feed = demo_feed(result.store, out)
    assert feed is not None and feed.parent == out / "notify"
    lines = feed.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# TLP:AMBER")
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert rows and {r["status"] for r in rows} <= {"new", "ongoing", "gone"}
    assert len({r["asn"] for r in rows}) == 1  # the one AS the demo's recipient asked for
    text = "\n".join(lines)
    for prefix in ("198.18.0.", "192.0.2.", "198.51.100.", "203.0.113."):  # the sensors
        assert prefix not in text
    assert demo_feed(result.store, out) == feed  # built and sent again: nothing new
