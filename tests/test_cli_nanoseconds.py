"""Every query command on a store holding nanosecond captures (issue 10, item 2).

The store is built by `teiten ingest` from the corpus's nanosecond pcaps, one µs
pcap, and a small generated ns pcap whose instants are not whole microseconds
(a scan and a DoS backscatter burst, so that `sources`, `source` and `events` have
rows to show; every source in the corpus's ns captures is also a destination
there, i.e. a sensor address, and is withheld). Timestamps that had nanoseconds
must keep them in every answer; none may end in a traceback.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from capture._captures import pcap
from conftest import capture_path, require_tool
from decode.builders import ACK, SYN, ether, ipv4, tcp
from teiten.cli import main

NS_CAPTURES = [
    "pcpp_nanosecs_big_endian.pcap",  # 2025-12-22, big-endian, sub-µs digits
    "tcpdump_tcp-handshake-nano.pcap",  # 2014-12-09, Linux SLL, sub-µs digits
    "libtrace_100_packetsns.pcap",  # ns magic, whole microseconds
]
US_CAPTURE = "ppa1e_dosattack.pcap"
T0 = int(datetime(2024, 5, 1, 12, tzinfo=UTC).timestamp())
DAY = "2024-05-01"
SCANNER, VICTIM = "198.51.100.7", "192.0.2.80"
# The generated capture's instants, written out by hand (not by the code under test).
SCAN_START, SCAN_END = "2024-05-01T12:00:00.000000123+00:00", "2024-05-01T12:00:14.900000123+00:00"
DOS_START, DOS_END = "2024-05-01T12:01:40.000000007+00:00", "2024-05-01T12:03:08.500000007+00:00"


def generated_ns_capture() -> bytes:
    """150 SYNs to port 23 (0.1 s apart, +123 ns) and 60 SYN-ACKs (1.5 s apart, +7 ns)."""
    records = []
    for i in range(150):
        frame = ether(ipv4(tcp(40000, 23, SYN), src=SCANNER, dst=f"203.0.113.{i + 1}"))
        records.append((T0 + i // 10, (i % 10) * 100_000_000 + 123, frame))
    for i in range(60):
        frame = ether(ipv4(tcp(80, 41000 + i, SYN | ACK), src=VICTIM, dst=f"203.0.113.{i + 1}"))
        records.append((T0 + 100 + i * 3 // 2, (i % 2) * 500_000_000 + 7, frame))
    return pcap(records, nsec=True)


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    if code == 0:
        assert result.exception is None
    return result.output


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("ns-store")
    generated = root / "generated_ns.pcap"
    generated.write_bytes(generated_ns_capture())
    paths = [str(capture_path(n)) for n in [*NS_CAPTURES, US_CAPTURE]] + [str(generated)]
    answer = json.loads(run("ingest", "--store", str(root / "store"), "--json", *paths))
    assert not answer["errors"]
    assert [i["status"] for i in answer["inputs"]] == ["ingested"] * len(paths)
    return str(root / "store")


def test_store_info_keeps_nanoseconds(store):
    info = json.loads(run("store", "info", "--store", store, "--json"))
    (sensor,) = info["sensors"]
    assert sensor["last_seen"] == "2025-12-22T00:05:26.168451894+00:00"  # pcpp, last packet
    assert "2025-12-22T00:05:26.168451894" in run("store", "info", "--store", store)


@pytest.mark.parametrize("day", ["2014-12-09", "2025-12-22"])
def test_sources_on_the_corpus_ns_captures(store, day):
    # These crashed (pyarrow: "not safely convertible to microseconds") even though
    # every row is withheld: the conversion ran before the withholding.
    for traffic in ("probe", "all"):
        answer = json.loads(
            run("sources", "--store", store, "--period", day, "--traffic", traffic, "--json")
        )
        assert answer["rows"] == []
        assert answer["total"]["withheld_sensor_sources"] >= 1
    assert "withheld" in run("sources", "--store", store, "--period", day)


def test_sources_keep_nanoseconds(store):
    answer = json.loads(
        run("sources", "--store", store, "--period", DAY, "--traffic", "all", "--json")
    )
    rows = {r["source"]: r for r in answer["rows"]}
    assert (rows[SCANNER]["first_seen"], rows[SCANNER]["last_seen"]) == (SCAN_START, SCAN_END)
    assert (rows[VICTIM]["first_seen"], rows[VICTIM]["last_seen"]) == (DOS_START, DOS_END)
    table = run("sources", "--store", store, "--period", DAY)
    assert SCANNER in table and "2024-05-01 12:00:00" in table


def test_sources_of_whole_microsecond_captures_read_as_before(store):
    # µs (and ns-magic, whole-µs) captures: datetime.isoformat's text, six digits.
    for day in ("2004-09-16", "2005-12-20"):
        rows = json.loads(run("sources", "--store", store, "--period", day, "--json"))["rows"]
        assert rows
        for r in rows:
            assert len(r["first_seen"]) in (25, 32), r  # no fraction, or .ffffff
            assert datetime.fromisoformat(r["first_seen"]) <= datetime.fromisoformat(r["last_seen"])


def test_source_history_keeps_nanoseconds(store):
    scanner = json.loads(run("source", SCANNER, "--store", store, "--json"))
    assert (scanner["first_seen"], scanner["last_seen"]) == (SCAN_START, SCAN_END)
    (scan,) = scanner["scans"]
    assert (scan["start"], scan["end"], scan["packets"]) == (SCAN_START, SCAN_END, 150)
    victim = json.loads(run("source", VICTIM, "--store", store, "--json"))
    (attack,) = victim["dos_attacks"]
    assert (attack["start"], attack["end"], attack["packets"]) == (DOS_START, DOS_END, 60)
    human = run("source", SCANNER, "--store", store)
    assert "2024-05-01T12:00:00" in human and "scan 23/tcp" in human
    assert "DoS attack" in run("source", VICTIM, "--store", store)


def test_source_from_a_corpus_ns_capture(store):
    # libtrace's ns file: pick one of its sources; the handshake's ends are sensors.
    (first, *_) = json.loads(run("sources", "--store", store, "--period", "2005-12-20", "--json"))[
        "rows"
    ]
    history = json.loads(run("source", first["source"], "--store", store, "--json"))
    assert history["first_seen"] == first["first_seen"]
    assert history["days"][0]["day"] == "2005-12-20"
    refused = run("source", "131.155.215.69", "--store", store, code=1)
    assert "sensors' monitored addresses" in refused


def test_events_keep_nanoseconds(store):
    scans = json.loads(run("events", "scans", "--store", store, "--period", DAY, "--json"))
    (scan,) = scans["rows"]
    assert (scan["source"], scan["start"], scan["end"]) == (SCANNER, SCAN_START, SCAN_END)
    dos = json.loads(run("events", "dos", "--store", store, "--period", DAY, "--json"))
    (attack,) = dos["rows"]
    assert (attack["victim"], attack["start"], attack["end"]) == (VICTIM, DOS_START, DOS_END)
    # Stored, then read back: the same text.
    again = json.loads(run("events", "dos", "--store", store, "--period", DAY, "--json"))
    assert again["rows"] == dos["rows"]
    assert "2024-05-01 12:01:40" in run("events", "dos", "--store", store, "--period", DAY)
    assert "2024-05-01 12:00:00" in run("events", "scans", "--store", store, "--period", DAY)


@pytest.mark.parametrize(
    ("command", "column", "expected"),
    [
        (["sources", "--traffic", "all"], "first_seen", {SCAN_START, DOS_START}),
        (["events", "scans"], "start", {SCAN_START}),
        (["events", "dos"], "start", {DOS_START}),
    ],
)
def test_csv_keeps_nanoseconds(store, command, column, expected):
    text = run(*command, "--store", store, "--period", DAY, "--csv")
    assert {row[column] for row in csv.DictReader(io.StringIO(text))} == expected


@pytest.mark.parametrize("family", ["scans", "dos"])
@pytest.mark.parametrize("day", ["2014-12-09", "2025-12-22"])
def test_events_on_the_corpus_ns_captures(store, family, day):
    answer = json.loads(run("events", family, "--store", store, "--period", day, "--json"))
    assert answer["rows"] == []
    run("events", family, "--store", store, "--period", day)


@pytest.mark.parametrize("period", [DAY, "2014-12-09", "2025-12"])
def test_top_and_phenomena(store, period):
    for what in ("ports", "countries"):
        answer = json.loads(
            run("top", what, "--store", store, "--period", period, "--traffic", "all", "--json")
        )
        assert answer["rows"]
        run("top", what, "--store", store, "--period", period, "--traffic", "all")
    json.loads(run("phenomena", "--store", store, "--period", period, "--json"))
    run("phenomena", "--store", store, "--period", period)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_report(store, tmp_path, fmt):
    out = tmp_path / f"r.{fmt}"
    run("report", "--store", store, "--period", DAY, "--lang", "en", "--out", str(out))
    text = out.read_text(encoding="utf-8")
    assert "12:01" in text  # the DoS attack's start, in the attacks table
    corpus = tmp_path / f"corpus.{fmt}"
    run("report", "--store", store, "--period", "2014-12-09", "--out", str(corpus))
    assert corpus.stat().st_size > 0


def test_report_pdf(store, tmp_path):
    require_tool("chromium")
    out = tmp_path / "r.pdf"
    run("report", "--store", store, "--period", DAY, "--lang", "en", "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF")
