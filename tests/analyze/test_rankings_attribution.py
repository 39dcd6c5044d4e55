"""Who made each ranking row: top sources' shares, the top source's country and tags, and
the one-host / few-hosts / broad label — through the CLI on a store built by `teiten ingest`.

The capture (2019-05-01): one ZMap host sends 500 SYNs to 22/tcp; 300 hosts send one SYN
each to 23/tcp; 3 hosts send 100 SYNs each and 200 hosts one each to 80/tcp.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import duckdb
import pytest
from click.testing import CliRunner

from capture._captures import pcap
from decode.builders import ether, ipv4, tcp
from teiten.cli import main
from teiten.store import Store

T0 = int(datetime(2019, 5, 1, 3, tzinfo=UTC).timestamp())
DARKNET = "198.51.100.7"
LOUD = "1.0.16.9"  # the one host behind 22/tcp
FEW = ["101.0.0.1", "101.0.0.2", "101.0.0.3"]  # most of 80/tcp
BROAD = [f"45.{33 + i // 250}.{i % 250}.{1 + i % 7}" for i in range(500)]
SOURCES = [LOUD, *FEW, *BROAD]
IPV4 = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b")


def _syn(src: str, dport: int, *, zmap: bool = False) -> bytes:
    segment = tcp(dport=dport, window=65535 if zmap else 1024)
    return ether(ipv4(segment, src=src, dst=DARKNET, ident=54321 if zmap else 7, ttl=250))


def _capture() -> bytes:
    frames = [_syn(LOUD, 22, zmap=True) for _ in range(500)]
    frames += [_syn(src, 23) for src in BROAD[:300]]
    frames += [_syn(src, 80) for src in FEW for _ in range(100)]
    frames += [_syn(src, 80) for src in BROAD[300:]]
    return pcap([(T0 + i // 100, i % 100, frame) for i, frame in enumerate(frames)])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("attribution")
    (root / "loud.pcap").write_bytes(_capture())
    args = ["ingest", "--store", str(root / "store"), "--sensor", "s1", str(root / "loud.pcap")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return root / "store"


def top(store, *args: str) -> str:
    result = CliRunner().invoke(main, ["top", *args, "--store", str(store), "--period", "2019Q2"])
    assert result.exit_code == 0, result.output
    return result.output


def by_port(store, *args: str) -> dict[int, dict]:
    return {r["port"]: r for r in json.loads(top(store, "ports", "--json", *args))["rows"]}


def test_one_loud_host_is_one_host_and_many_hosts_are_broad(store):
    rows = by_port(store)
    loud, broad, few = rows[22], rows[23], rows[80]
    assert loud["attribution"] == "one-host"
    assert loud["top_sources_share"] == [1.0, 1.0]
    assert loud["top_source"]["tags"] == ["zmap"]
    assert broad["attribution"] == "broad"
    assert broad["top_sources_share"] == [round(1 / 300, 6), round(3 / 300, 6)]
    assert broad["top_source"]["tags"] == []
    assert few["attribution"] == "few-hosts"
    assert few["top_sources_share"] == [0.2, 0.6]


def test_shares_and_country_equal_a_query_over_the_parquet_files(store):
    glob = Store(store, create=False).packets_glob
    expected = duckdb.sql(
        f"""
        WITH per_source AS (
            SELECT dport, src, count(*) AS n, min(country) AS country
            FROM read_parquet('{glob}') GROUP BY dport, src
        ), ordered AS (
            SELECT *, row_number() OVER (PARTITION BY dport ORDER BY n DESC, src) AS i,
                   sum(n) OVER (PARTITION BY dport) AS total
            FROM per_source
        )
        SELECT dport, round(max(n) / any_value(total), 6) AS top1,
               round(sum(n) / any_value(total), 6) AS top3,
               max(country) FILTER (WHERE i = 1) AS country
        FROM ordered WHERE i <= 3 GROUP BY dport
        """
    ).fetchall()
    rows = by_port(store)
    shown = {port: (r["top_sources_share"], r["top_source"]["country"]) for port, r in rows.items()}
    assert shown == {port: ([top1, top3], country) for port, top1, top3, country in expected}
    assert rows[22]["top_source"]["country"]  # the RIR data knows 1.0.16.9


def test_the_threshold_is_a_setting(store):
    answer = json.loads(top(store, "ports", "--json", "--attribution-threshold", "0.7"))
    assert answer["attribution_threshold"] == 0.7
    assert {r["port"]: r["attribution"] for r in answer["rows"]} == {
        22: "one-host",
        23: "broad",
        80: "broad",
    }
    result = CliRunner().invoke(
        main,
        ["top", "ports", "--store", str(store), "--period", "2019Q2",
         "--attribution-threshold", "0"],
    )  # fmt: skip
    assert result.exit_code == 2


def test_the_table_marks_one_host_and_few_hosts_rows_with_a_footnote(store):
    table = top(store, "ports")
    lines = table.splitlines()
    row = {port: next(line for line in lines if f"{port}/tcp" in line) for port in (22, 23, 80)}
    assert "500†" in row[22]
    assert "300" in row[23] and "†" not in row[23] and "‡" not in row[23]
    assert "500‡" in row[80]
    assert "† mostly one host (top source ≥ 50 % of the row's packets)" in table
    assert "‡ mostly a few hosts (top 3 sources ≥ 50 % of the row's packets)" in table


def test_countries_rows_carry_attribution_too(store):
    rows = json.loads(top(store, "countries", "--json"))["rows"]
    assert rows and all(r["attribution"] in ("one-host", "few-hosts", "broad") for r in rows)
    assert all(r["top_source"]["country"] == r["country"] for r in rows)


def test_csv_flattens_the_top_source_and_no_output_shows_a_source_address(store):
    text = top(store, "ports", "--csv")
    rows = {int(r["port"]): r for r in csv.DictReader(io.StringIO(text))}
    assert rows[22]["attribution"] == "one-host"
    assert rows[22]["top_sources_share"] == "1.0;1.0"
    assert rows[22]["top_source.tags"] == "zmap"
    assert rows[22]["top_source.country"]
    outputs = [
        text,
        top(store, "ports"),
        top(store, "ports", "--json"),
        top(store, "countries"),
        top(store, "countries", "--json"),
        top(store, "countries", "--csv"),
    ]
    for output in outputs:
        assert not set(IPV4.findall(output)) & set(SOURCES)


def test_empty_csv_header_has_the_attribution_columns(store):
    result = CliRunner().invoke(
        main, ["top", "ports", "--store", str(store), "--period", "2018Q1", "--csv"]
    )
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split(",")
    assert header[-4:] == ["top_sources_share", "top_source.country", "top_source.tags",
                           "attribution"]  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "note"),
    [
        ("ja", "†：最も多く送信した1つの送信元が、その行のパケットの50.0%以上を占めています"),
        ("en", "† Mostly one host: the row's top source sent 50.0% or more of its packets."),
    ],
)
def test_the_report_tables_carry_the_mark_and_its_footnote(store, lang, note):
    from teiten.analyze.periods import parse_period
    from teiten.report import build_report
    from teiten.report.compose import Paragraph, Table, compose

    data = build_report(Store(store, create=False), parse_period("2019Q2"), findings=[])
    ports = next(s for s in compose(data, lang).sections if s.id == "ports")
    i, table = next((i, b) for i, b in enumerate(ports.blocks) if isinstance(b, Table))
    marked = {row[1].value: row[4].text for row in table.rows}
    busiest = {row[1].value: row[3].value for row in table.rows}  # the busiest source's share
    assert busiest["22/tcp"] == 1.0 and busiest["80/tcp"] == pytest.approx(0.2)
    assert marked["22/tcp"].endswith("†") and marked["80/tcp"].endswith("‡")
    assert not marked["23/tcp"].endswith(("†", "‡"))
    footnote = ports.blocks[i + 1]
    assert isinstance(footnote, Paragraph) and note in footnote.text and "‡" in footnote.text
    assert not set(IPV4.findall(str(ports))) & set(SOURCES)


@pytest.mark.parametrize(
    ("lang", "said", "unsaid"),
    [
        ("ja", "22/TCPのパケットの100.0%は、", "80/TCPのパケットの"),
        ("en", "(ZMap) sent 100.0% of the packets of 22/TCP.", "of the packets of 80/TCP"),
    ],
)
def test_the_report_names_a_rows_busiest_source_in_words(store, lang, said, unsaid):
    """A row whose busiest source sent 25 % or more says so in the section's text (its
    country and tool, never its address); 80/tcp's busiest sent 20 %: nothing is said."""
    from teiten.analyze.periods import parse_period
    from teiten.report import build_report
    from teiten.report.compose import Paragraph, compose

    data = build_report(Store(store, create=False), parse_period("2019Q2"), findings=[])
    ports = next(s for s in compose(data, lang).sections if s.id == "ports")
    intro = next(b for b in ports.blocks if isinstance(b, Paragraph)).text
    assert said in intro and unsaid not in intro
    assert "ZMap" in intro and not IPV4.search(intro)
