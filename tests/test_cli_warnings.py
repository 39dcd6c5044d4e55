"""No Python warning reaches the terminal, whatever the period holds.

Every query command runs on an empty period, a one-day store, a store of one packet,
and a period whose previous period is empty (where NumPy used to warn "Mean of empty
slice"). In-process runs see warnings as errors (pyproject's filterwarnings), so a
warning fails the command; the subprocess runs check what a user's terminal shows.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from _cli_store import REAL_PERIOD, build_store, ingest
from capture._captures import pcap
from decode.builders import ether, ipv4, tcp
from teiten.cli import main

TEITEN = [sys.executable, "-m", "teiten.cli"]
COMMANDS = [
    ["top", "ports"],
    ["top", "countries"],
    ["top", "ports", "--country", "JP", "--sensor", "s1", "--json"],
    ["sources"],
    ["sources", "--csv"],
    ["events", "scans"],
    ["events", "dos", "--json"],
    ["phenomena"],
    ["phenomena", "--focus-country", "US", "--csv"],
    ["infected"],
    ["infected", "--country", "US", "--json"],
    ["events", "scans", "--asn", "64500", "--prefix", "0.0.0.0/1"],
]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-warnings")
    one = root / "one.pcap"
    # 2021-04-01T00:00:00.5Z, one SYN to 23/tcp
    one.write_bytes(pcap([(1_617_235_200, 500_000, ether(ipv4(tcp(dport=23))))]))
    ingest(root / "one", "s1", [one])
    return {"real": str(build_store(root)), "one": str(root / "one")}


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
@pytest.mark.parametrize(
    ("which", "period"),
    [
        ("real", REAL_PERIOD),  # the previous quarter is empty
        ("real", "2021"),
        ("real", "2021-04-01"),
        ("real", "2030Q1"),  # empty
        ("one", "2021-04-01"),
        ("one", "2021-W13"),
        ("one", "2021Q2"),
    ],
)
def test_queries_do_not_warn(stores, command, which, period):
    run(*command, "--store", stores[which], "--period", period)


@pytest.mark.parametrize(("which", "period"), [("real", REAL_PERIOD), ("one", "2021-04-01")])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_report_does_not_warn(stores, tmp_path, which, period, lang):
    out = tmp_path / "r.md"
    run("report", "--store", stores[which], "--period", period, "--lang", lang, "--out", str(out))
    assert out.exists()


def test_nothing_but_answers_on_the_terminal(stores, tmp_path):
    """As a user runs them: an empty period and a quarter after an empty one."""
    store = stores["real"]
    runs = [[*c, "--period", p] for c in COMMANDS for p in ("2030Q1", REAL_PERIOD)]
    runs.append(["report", "--period", REAL_PERIOD, "--out", str(tmp_path / "r.html")])
    runs.append(["sensors", "list", "--csv"])
    for args in runs:
        done = subprocess.run([*TEITEN, *args, "--store", store], capture_output=True, text=True)
        assert done.returncode == 0, (args, done.stderr)
        assert done.stderr == "", (args, done.stderr)
    out = str(tmp_path / "e.md")
    empty = subprocess.run(
        [*TEITEN, "report", "--store", store, "--period", "2030Q1", "--out", out],
        capture_output=True,
        text=True,
    )
    assert empty.returncode == 1
    assert empty.stderr.startswith("Error: no packets in 2030Q1") and "Warning" not in empty.stderr
