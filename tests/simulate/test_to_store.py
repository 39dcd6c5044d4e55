"""Direct-to-store output: the same rows (and so the same rankings) as ingesting the captures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from teiten.analyze.periods import parse_period
from teiten.analyze.rankings import rank
from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.simulate import TRUTH_FILE, load_scenario, simulate_to_pcap, simulate_to_store
from teiten.store import DuckDBEngine, Store

from ._sim import small_config, tshark

CONFIG = small_config(
    60_000,
    seed=4,
    start=datetime(2019, 5, 12, 18, tzinfo=UTC),
    end=datetime(2019, 5, 16, tzinfo=UTC),
    scenario=load_scenario("2019q2"),
)
ROWS = (  # batch: each store names its own write batches
    "SELECT * EXCLUDE (batch) FROM packets ORDER BY ts, src, dst, sport, dport, tcp_seq, ip_id"
)


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("to-store")
    paths = simulate_to_pcap(CONFIG, root / "captures", per="day", fmt="pcapng")
    ingested = Store(root / "ingested")
    geo = open_geo()
    for sensor in CONFIG.sensors:
        report = ingest([p for p in paths if p.parent.name == sensor.name], ingested, geo,
                        sensor=sensor.name)  # fmt: skip
        assert report.ok
    direct = Store(root / "direct")
    truth = simulate_to_store(CONFIG, direct, truth_path=root / "truth.json")
    return root, paths, ingested, direct, truth


def test_same_rows_as_ingesting_the_captures(stores):
    _, _, ingested, direct, truth = stores
    with DuckDBEngine(ingested) as a, DuckDBEngine(direct) as b:
        rows = a.rows(ROWS)
        assert len(rows) == truth.packets == CONFIG.packets
        assert rows == b.rows(ROWS)


def test_same_rankings(stores):
    _, _, ingested, direct, _ = stores
    period = parse_period("2019-05-13..2019-05-15")
    for dimension in ("ports", "countries"):
        with DuckDBEngine(ingested) as a, DuckDBEngine(direct) as b:
            want = rank(a, dimension, period, limit=20).as_json()  # type: ignore[arg-type]
            got = rank(b, dimension, period, limit=20).as_json()  # type: ignore[arg-type]
        assert got == want and got["rows"]


def test_one_batch_per_day_and_a_second_run_adds_nothing(stores):
    _, _, _, direct, _ = stores
    names = sorted(i.name for i in direct.manifest.inputs())
    assert [n.rsplit(":", 1)[1] for n in names] == [
        "2019-05-12", "2019-05-13", "2019-05-14", "2019-05-15"
    ]  # fmt: skip
    assert all(n.startswith("simulated:2019q2:seed=4:") for n in names)
    simulate_to_store(CONFIG, direct)
    with DuckDBEngine(direct) as engine:
        assert engine.rows("SELECT count(*) AS n FROM packets")[0]["n"] == CONFIG.packets
    assert len(direct.manifest.inputs()) == 4


def test_truth_file_matches_the_pcap_truth(stores):
    root, _, _, _, _ = stores
    direct = json.loads((root / "truth.json").read_text())
    written = json.loads((root / "captures" / TRUTH_FILE).read_text())
    for key in ("packets", "by_port", "by_country", "by_behaviour", "events", "daily"):
        assert direct[key] == written[key], key
    assert written["format"] == "pcapng"


def test_pcapng_files_read_cleanly_with_tshark(stores):
    root, paths, _, _, _ = stores
    files = json.loads((root / "captures" / TRUTH_FILE).read_text())["files"]
    assert all(p.suffix == ".pcapng" for p in paths) and len(paths) == 2 * 4
    first = next(p for p in paths if files[p.relative_to(root / "captures").as_posix()])
    assert len(tshark(first)) == files[first.relative_to(root / "captures").as_posix()]
    assert tshark(first, "-Y", "_ws.malformed || _ws.expert.severity == error") == []
