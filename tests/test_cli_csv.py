"""`--csv` on every table command: a header row, then the numbers `--json` gives.

The CSV is read back with the csv module and checked cell by cell against the JSON
rows by an independent reading of the flattening rule (docs: objects become
``parent.key`` columns, lists of values one ``;``-joined cell, lists of objects one
JSON cell, null an empty cell).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner

from _cli_store import PERIOD, REAL_PERIOD, build_store
from teiten.cli import main


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return str(build_store(tmp_path_factory.mktemp("cli-csv"), simulated=True))


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def expected_cells(value: Any, name: str = "") -> dict[str, Any]:
    """The JSON value's cells: column name → JSON value (objects opened up)."""
    if isinstance(value, dict):
        cells = {}
        for key, inner in value.items():
            cells |= expected_cells(inner, f"{name}.{key}" if name else key)
        return cells
    return {name: value}


def same(value: Any, cell: str) -> bool:
    if value is None:
        return cell == ""
    if isinstance(value, bool):
        return cell == str(value).lower()
    if isinstance(value, int):
        return int(cell) == value
    if isinstance(value, float):
        return float(cell) == value
    if isinstance(value, list):
        if any(isinstance(v, dict) for v in value):
            return json.loads(cell) == value
        return cell.split(";") == [str(v) for v in value] if value else cell == ""
    return cell == value


def assert_csv_equals_json(rows: list[dict], text: str) -> list[str]:
    reader = csv.DictReader(io.StringIO(text))
    read = list(reader)
    assert reader.fieldnames, "a header row"
    assert len(read) == len(rows)
    for want, got in zip(rows, read, strict=True):
        cells = expected_cells(want)
        assert set(cells) <= set(got), set(cells) - set(got)
        for column, value in cells.items():
            assert same(value, got[column]), (column, value, got[column])
        assert all(got[c] == "" for c in set(got) - set(cells))  # only other rows' keys
    return list(reader.fieldnames)


TABLES = {
    "top ports": (["top", "ports", "--period", REAL_PERIOD, "--limit", "50"], "rows"),
    "top ports --explain": (["top", "ports", "--period", PERIOD, "--explain"], "rows"),
    "top countries": (["top", "countries", "--period", REAL_PERIOD, "--limit", "300"], "rows"),
    "sources": (["sources", "--period", REAL_PERIOD, "--limit", "100"], "rows"),
    "events scans": (["events", "scans", "--period", PERIOD, "--limit", "100"], "rows"),
    "events dos": (["events", "dos", "--period", PERIOD, "--limit", "100"], "rows"),
    # new entrants of June 14 against April 1 (the previous 61 days); REAL_PERIOD is the
    # store's first quarter, with no previous data and so no new entrants
    "phenomena": (["phenomena", "--period", "2021-05-01..2021-06-30"], "findings"),
    "sensors list": (["sensors", "list"], "sensors"),
}


@pytest.mark.parametrize("name", list(TABLES))
def test_csv_equals_json(store, name):
    args, key = TABLES[name]
    args = [*args, "--store", store]
    rows = json.loads(run(*args, "--json"))[key]
    assert rows, f"{name}: the store should give rows to compare"
    header = assert_csv_equals_json(rows, run(*args, "--csv"))
    assert len(header) == len(set(header))


def test_csv_columns_flatten_nested_values(store):
    text = run("top", "ports", "--store", store, "--period", REAL_PERIOD, "--csv")
    header = text.splitlines()[0].split(",")
    assert header[:4] == ["rank", "proto", "port", "service"]
    assert {"tag_shares.mirai", "tag_shares.zmap", "tag_shares.research"} <= set(header)
    sources = run("sources", "--store", store, "--period", REAL_PERIOD, "--csv", "--limit", "5")
    first = next(csv.DictReader(io.StringIO(sources)))
    assert all("/" in port for port in first["ports"].split(";"))
    explained = run("top", "ports", "--store", store, "--period", PERIOD, "--explain", "--csv")
    known = [json.loads(r["knowledge"] or "[]") for r in csv.DictReader(io.StringIO(explained))]
    assert any(items and {"kind", "id", "title"} <= set(items[0]) for items in known)


@pytest.mark.parametrize(
    ("args", "first"),
    [
        (["top", "ports"], "rank,proto,port,service,packets"),
        (["top", "countries"], "rank,country,name,packets"),
        (["sources"], "source,country,asn,first_seen"),
        (["events", "scans"], "source,country,asn,proto,port"),
        (["events", "dos"], "victim,country,asn,proto"),
        (["phenomena"], "kind,"),
    ],
)
def test_empty_tables_still_have_a_header(store, args, first):
    text = run(*args, "--store", store, "--period", "2030Q1", "--csv")
    lines = text.splitlines()
    assert len(lines) == 1 and lines[0].startswith(first)


@pytest.mark.parametrize(
    "args",
    [
        ["top", "ports", "--period", REAL_PERIOD],
        ["top", "countries", "--period", REAL_PERIOD],
        ["sources", "--period", REAL_PERIOD],
        ["events", "scans", "--period", PERIOD],
        ["events", "dos", "--period", PERIOD],
        ["phenomena", "--period", REAL_PERIOD],
        ["sensors", "list"],
    ],
)
def test_json_and_csv_together_is_a_usage_error(store, args):
    output = run(*args, "--store", store, "--json", "--csv", code=2)
    assert "--json and --csv are exclusive" in output
