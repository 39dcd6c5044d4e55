"""Tag-aware rankings: --tag / --exclude-tag filters and per-row tag shares."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from teiten.analyze.periods import parse_period
from teiten.analyze.rankings import Filters, rank
from teiten.cli import main
from teiten.errors import OptionError
from teiten.fingerprint import TAG_BITS
from teiten.store import DuckDBEngine, InputRecord, Store

Q2 = parse_period("2019Q2")


def bits(*labels: str) -> int:
    return sum(1 << TAG_BITS[label] for label in labels)


def _rows():
    rows = []

    def add(n, dport, tags=0, *, country="CN", kind="probe", ts="2019-05-01T00:00:00"):
        for i in range(n):
            src = f"192.0.{dport % 250}.{i + 1}"
            rows.append(
                {"ts": ts, "src": src, "dst": "198.51.100.7", "dport": dport,
                 "country": country, "kind": kind, "tags": tags}
            )  # fmt: skip

    add(6, 23, bits("mirai"))  # 23/tcp: 6 Mirai + 2 research (ZMap) + 2 untagged
    add(2, 23, bits("zmap", "research"), country="US")
    add(2, 23)
    add(3, 445, country="US")  # 445/tcp: 3 untagged + 1 masscan
    add(1, 445, bits("masscan", "research"), country="US")
    add(4, 80, bits("bs-rst"), kind="backscatter")
    add(5, 23, bits("mirai"), ts="2019-02-01T00:00:00")  # the previous quarter
    return rows


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from conftest import rows_table

    root = tmp_path_factory.mktemp("tags") / "store"
    store = Store(root)
    writer = store.writer("s1", "g", "e")
    writer.write(rows_table(_rows()))
    writer.commit([InputRecord("c" * 64, "x", 1, 1, 0)])
    return root


@pytest.fixture
def engine(store):
    with DuckDBEngine(Store(store)) as eng:
        yield eng


def test_rows_and_total_carry_tag_shares(engine):
    r = rank(engine, "ports", Q2)
    by_port = {row["port"]: row for row in r.rows}
    assert by_port[23]["tag_shares"] == {"mirai": 0.6, "zmap": 0.2, "masscan": 0.0, "research": 0.2}
    assert by_port[445]["tag_shares"]["masscan"] == 0.25
    assert r.tag_shares == {
        "mirai": round(6 / 14, 6),
        "zmap": round(2 / 14, 6),
        "masscan": round(1 / 14, 6),
        "research": round(3 / 14, 6),
    }
    assert list(r.as_json()) == ["period", "previous", "metric", "traffic", "total",
                                 "filters", "tag_shares", "attribution_threshold",
                                 "rows"]  # fmt: skip


def test_other_tags_present_in_the_period_get_shares_too(engine):
    r = rank(engine, "ports", Q2, traffic="all")
    assert set(r.tag_shares) == {"mirai", "zmap", "masscan", "research", "bs-rst"}
    (row80,) = [row for row in r.rows if row["port"] == 80]
    assert row80["tag_shares"]["bs-rst"] == 1.0 and row80["tag_shares"]["mirai"] == 0.0


def test_tag_filter_keeps_packets_with_any_of_the_tags(engine):
    r = rank(engine, "ports", Q2, filters=Filters(tags=("mirai",)))
    assert [(row["port"], row["packets"], row["previous_rank"]) for row in r.rows] == [(23, 6, 1)]
    assert r.total["packets"] == 6 and r.tag_shares["mirai"] == 1.0
    r = rank(engine, "ports", Q2, filters=Filters(tags=("zmap", "masscan")))
    assert [(row["port"], row["packets"]) for row in r.rows] == [(23, 2), (445, 1)]


def test_exclude_tag_leaves_research_scanners_out(engine):
    r = rank(engine, "countries", Q2, filters=Filters(exclude_tags=("research",)))
    assert [(row["country"], row["packets"]) for row in r.rows] == [("CN", 8), ("US", 3)]
    assert r.tag_shares["research"] == 0.0
    both = Filters(tags=("mirai", "zmap"), exclude_tags=("research",))
    assert rank(engine, "ports", Q2, filters=both).total["packets"] == 6


def test_unknown_tag_names_the_known_ones(engine):
    with pytest.raises(OptionError, match=r"unknown tag 'miria'.*mirai, zmap, masscan"):
        rank(engine, "ports", Q2, filters=Filters(tags=("miria",)))


def test_cli_tag_options(store):
    args = ["top", "ports", "--store", str(store), "--period", "2019Q2"]
    result = CliRunner().invoke(main, [*args, "--exclude-tag", "research", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["packets"] == 11 and data["tag_shares"]["research"] == 0.0
    assert data["rows"][0]["tag_shares"]["mirai"] == 0.75

    result = CliRunner().invoke(main, [*args, "--tag", "nope"])
    assert result.exit_code == 2
    assert "--tag: unknown tag 'nope'" in result.output and "research" in result.output

    human = CliRunner().invoke(main, args)
    assert human.exit_code == 0
    assert "Mirai %" in human.output and "ZMap %" not in human.output
    assert "60.0%" in human.output  # 23/tcp's Mirai share
    assert "tags: mirai 42.9%, zmap 14.3%, masscan 7.1%, research 21.4%" in human.output

    chosen = CliRunner().invoke(main, [*args, "--show-tag", "research", "--show-tag", "bs-rst"])
    assert chosen.exit_code == 0, chosen.output
    assert "Research %" in chosen.output and "bs-rst %" in chosen.output
    assert "Mirai %" not in chosen.output
    assert CliRunner().invoke(main, [*args, "--show-tag", "nope"]).exit_code == 2

    only = CliRunner().invoke(main, [*args, "--tag", "mirai"])
    assert "Mirai %" not in only.output  # 100 % everywhere: no column
