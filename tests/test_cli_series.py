"""`teiten series`: its JSON, CSV and table, and one line for every bad option."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from click.testing import CliRunner

from _cli_store import PERIOD, build_store
from teiten.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return str(build_store(tmp_path_factory.mktemp("cli-series"), simulated=True))


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_json(store):
    args = ["--port", "23/tcp", "--traffic", "all", "--metric", "sources", "--tag", "mirai"]
    data = json.loads(run("series", "--store", store, "--period", PERIOD, "--json", *args))
    assert data["period"] == {"label": PERIOD, "start": "2024-03-01", "end": "2024-03-02"}
    assert (data["by"], data["metric"], data["traffic"]) == ("day", "sources", "all")
    assert data["filters"] == {"tags": ["mirai"], "port": "23/tcp"}
    assert data["buckets"] == ["2024-03-01", "2024-03-02"]
    assert all(v > 0 for v in data["values"])
    assert data["breakdown"]["mirai"] == data["values"]  # every source counted carries it
    assert list(data["breakdown"]) == ["mirai", "zmap", "masscan", "research", "backscatter"]


def test_csv_is_one_line_per_bucket(store):
    args = ["--period", "2024-03-01", "--by", "hour", "--country", "China", "--csv"]
    rows = list(csv.DictReader(io.StringIO(run("series", "--store", store, *args))))
    data = json.loads(run("series", "--store", store, *args[:-1], "--json"))
    assert len(rows) == 24
    assert list(rows[0]) == ["bucket", "value", "mirai", "zmap", "masscan", "research"]
    assert rows[5]["bucket"] == "2024-03-01T05:00:00Z"
    assert [int(r["value"]) for r in rows] == data["values"]
    assert [int(r["zmap"]) for r in rows] == data["breakdown"]["zmap"]
    assert data["filters"] == {"country": "CN"}


def test_table(store):
    text = run("series", "--store", store, "--period", PERIOD, "--traffic", "all", "--proto", "tcp")
    assert "Packets per day, 2024-03-01..2024-03-02" in text and "proto tcp" in text
    for word in ("2024-03-01", "2024-03-02", "Mirai", "ZMap", "Masscan", "Backscatter"):
        assert word in text
    hours = run("series", "--store", store, "--period", "2024-03-02", "--by", "hour")
    assert "2024-03-02 23:00" in hours and "Hour (UTC)" in hours


def test_days_outlive_raw_retention_and_hours_say_so(store, tmp_path):
    copy = str(tmp_path / "store")
    shutil.copytree(store, copy)
    args = ["series", "--period", "2021-04", "--traffic", "all", "--json"]
    before = run(*args, "--store", store)
    run("store", "retention", "--days", "1", "--store", copy)
    run("store", "retain", "--store", copy)
    assert run(*args, "--store", copy) == before
    assert sum(json.loads(before)["values"]) > 1000
    output = run("series", "--store", copy, "--period", "2021-04", "--by", "hour", code=1)
    assert "hourly counts of 2021-04: the raw packets of 2021-04-01 are needed" in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--period", "2024Q5"], 2, "2024Q5"),
        (["--period", PERIOD, "--by", "week"], 2, "'week' is not one of 'day', 'hour'"),
        (["--period", PERIOD, "--metric", "per-sensor"], 2, "'per-sensor' is not one of"),
        (["--period", "2024", "--by", "hour"], 2, "--by hour covers at most 31 days"),
        (["--period", PERIOD, "--tag", "nosuch"], 2, "unknown tag 'nosuch'"),
        (["--period", PERIOD, "--sensor", "nosuch"], 2, "unknown sensor 'nosuch'"),
        (["--period", PERIOD, "--country", "Atlantis"], 2, "Atlantis"),
        (["--period", PERIOD, "--port", "telnet"], 2, "expected PORT/PROTO such as 23/tcp"),
        (["--period", PERIOD, "--port", "23/tcp", "--proto", "udp"], 2, "disagree"),
        (["--period", PERIOD, "--proto", "bogus"], 2, "unknown protocol 'bogus'"),
        (["--period", PERIOD, "--json", "--csv"], 2, "exclusive"),
    ],
)
def test_bad_options_are_one_line(store, args, code, says):
    output = run("series", "--store", store, *args, code=code)
    assert says in output
    assert "Traceback" not in output
    assert len([line for line in output.splitlines() if line.startswith("Error")]) == 1
