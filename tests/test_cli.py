"""The CLI contract: JSON shapes others script against, exit statuses, human tables."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import capture_path
from teiten.cli import main

TEITEN = [sys.executable, "-m", "teiten.cli"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli") / "store"
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            "--store",
            str(root),
            "--sensor",
            "lab",
            "--json",
            str(capture_path("stopddos_pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng")),
            str(capture_path("ppa3e_synscan.pcapng")),
        ],
    )
    assert result.exit_code == 0, result.output
    return root, json.loads(result.output)


def test_ingest_json_shape(store):
    _, data = store
    assert set(data) >= {"files", "packets", "duplicates", "skipped", "errors"}
    assert data["files"] == 2 and data["errors"] == [] and data["duplicates"] == 0
    assert isinstance(data["packets"], int) and data["packets"] > 11_000


def _period_of(root):
    from teiten.store import DuckDBEngine, Store

    with DuckDBEngine(Store(root)) as engine:
        day = engine.rows("SELECT min(day) AS d FROM packets WHERE kind = 'probe'")[0]["d"]
    return day.isoformat()


def test_top_ports_json_shape(store):
    root, _ = store
    period = _period_of(root)
    result = CliRunner().invoke(
        main, ["top", "ports", "--store", str(root), "--period", period, "--limit", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {
        "period", "previous", "metric", "traffic", "total", "filters", "tag_shares",
        "attribution_threshold", "rows",
    }  # fmt: skip
    assert data["filters"] == {}
    assert set(data["period"]) == {"label", "start", "end"} == set(data["previous"])
    assert data["metric"] == "packets" and data["traffic"] == "probe"
    assert set(data["total"]) == {"packets", "sources", "sensors"}
    assert data["total"]["sensors"] == 1
    assert 1 <= len(data["rows"]) <= 3
    row = data["rows"][0]
    keys = {"rank", "proto", "port", "service", "packets", "sources", "share", "previous_rank"}
    assert keys | {"top_sources_share", "top_source", "attribution"} <= set(row)
    assert set(row["top_source"]) == {"country", "tags"}
    assert row["rank"] == 1 and row["proto"] == "tcp"
    assert isinstance(row["port"], int) and isinstance(row["share"], float)
    assert {"mirai", "zmap", "masscan", "research"} <= set(row["tag_shares"])
    assert set(row["tag_shares"]) == set(data["tag_shares"])


def test_top_ports_explain_adds_knowledge(store):
    from datetime import date

    from teiten.knowledge import load_knowledge

    root, _ = store
    day = _period_of(root)
    as_of = date.fromisoformat(day)  # what was known that day (test_cli_knowledge_dates.py)
    args = ["top", "ports", "--store", str(root), "--period", day, "--limit", "200"]
    plain = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert all("knowledge" not in row for row in plain["rows"])

    result = CliRunner().invoke(main, [*args, "--explain", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["rows"]
    kb = load_knowledge()
    known = [r for r in rows if r["knowledge"]]
    assert known, "the scan reaches ports the knowledge base describes"
    for row in rows:
        assert row["knowledge"] == kb.items(row["proto"], row["port"], as_of=as_of)
        for item in row["knowledge"]:
            assert set(item) == {"kind", "id", "title", "title_ja", "published", "disclosed"}
            assert item["kind"] in {"cve", "malware", "product"}
    assert any(i["kind"] == "cve" and i["published"] for r in known for i in r["knowledge"])

    table = CliRunner().invoke(main, [*args, "--explain"])
    assert table.exit_code == 0 and "Known for" in table.output


def test_top_countries_json_shape(store):
    root, _ = store
    period = _period_of(root)
    result = CliRunner().invoke(
        main, ["top", "countries", "--store", str(root), "--period", period, "--json"]
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)["rows"][0]
    assert {"rank", "country", "name", "packets", "sources", "share", "previous_rank"} <= set(row)


def test_human_table_has_change_markers(store):
    root, _ = store
    result = CliRunner().invoke(
        main, ["top", "ports", "--store", str(root), "--period", _period_of(root)]
    )
    assert result.exit_code == 0
    assert "Rank" in result.output and "NEW" in result.output


def _table_cells(output: str) -> tuple[list[str], list[list[str]]]:
    """A rich table's header and body rows as cell texts (single-line rows)."""
    lines = [line for line in output.splitlines() if line.startswith("│") or "┃" in line]
    header = [c.strip() for c in lines[0].strip("┃").split("┃")]
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines[1:]]
    return header, rows


def _probe_days(root):
    from teiten.store import DuckDBEngine, Store

    with DuckDBEngine(Store(root)) as engine:
        rows = engine.rows("SELECT DISTINCT day FROM packets WHERE kind = 'probe' ORDER BY day")
    return [r["day"].isoformat() for r in rows]


def test_human_table_rounds_per_sensor_and_shares_by_the_one_rule(store):
    """Per sensor: whole numbers (one decimal below 10), never "….0"; shares 0.1 %.
    The JSON keeps the exact values."""
    root, _ = store
    seen = set()
    for day in _probe_days(root):  # one day of 2-packet rows, one of a 9,639-packet row
        args = ["top", "ports", "--store", str(root), "--period", day, "--limit", "5"]
        rows = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)["rows"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        header, cells = _table_cells(result.output)
        per_sensor, share = header.index("Per sensor"), header.index("Share")
        assert len(cells) == len(rows) > 0
        for row, exact in zip(cells, rows, strict=True):
            shown, value = row[per_sensor], exact["per_sensor"]
            seen.add(value >= 10)
            if value >= 10:
                assert shown == f"{round(value):,}" and not shown.endswith(".0"), shown
            else:
                assert shown == f"{value:.1f}", shown
            assert row[share] == f"{exact['share'] * 100:.1f}%"
    assert seen == {True, False}  # both branches of the rule were shown


def test_exit_statuses(tmp_path):
    bad = tmp_path / "bad.pcap"
    bad.write_text("<html>not a capture</html>")
    good = capture_path("libtrace_100_packets.pcap")
    store = str(tmp_path / "s")
    ok = subprocess.run([*TEITEN, "ingest", "--store", store, str(good)], capture_output=True)
    assert ok.returncode == 0, ok.stderr
    mixed = subprocess.run(
        [*TEITEN, "ingest", "--store", store, "--json", str(bad), str(good)], capture_output=True
    )
    assert mixed.returncode == 1
    assert json.loads(mixed.stdout)["duplicates"] > 0
    usage = subprocess.run([*TEITEN, "ingest", "--bogus"], capture_output=True)
    assert usage.returncode == 2
    period = subprocess.run(
        [*TEITEN, "top", "ports", "--store", store, "--period", "2019Q7"], capture_output=True
    )
    assert period.returncode == 2 and b"2019Q7" in period.stderr
    missing = subprocess.run(
        [*TEITEN, "top", "ports", "--store", str(tmp_path / "none"), "--period", "2019Q1"],
        capture_output=True,
    )
    assert missing.returncode == 1 and b"not a teiten store (no manifest)" in missing.stderr


def test_help_documents_every_command():
    for args in (["--help"], ["ingest", "--help"], ["top", "ports", "--help"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0 and "Usage" in result.output


def test_every_command_module_is_listed():
    """Commands are registered when first asked for: the list must name every one."""
    import importlib
    import pkgutil

    import teiten.cli
    from teiten.cli.common import COMMANDS

    for info in pkgutil.iter_modules(teiten.cli.__path__):
        if info.name != "__main__":
            importlib.import_module(f"teiten.cli.{info.name}")
    assert sorted(main.commands) == sorted(COMMANDS)
    assert (
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys, teiten.cli; sys.exit('teiten.analyze.scans' in sys.modules)",
            ],
            check=False,
        ).returncode
        == 0
    )  # a command does not import every other command's analyses


def test_store_info(store):
    root, ingested = store
    result = CliRunner().invoke(main, ["store", "info", "--store", str(root), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["packets"] == ingested["packets"]
    assert [s["sensor"] for s in info["sensors"]] == ["lab"]
    assert info["inputs"] == 2 and info["batches"] == 2
    assert info["geo"][0]["database"].startswith("iptocc")
    human = CliRunner().invoke(main, ["store", "info", "--store", str(root)])
    assert "tagged by iptocc" in human.output


def test_ingest_dry_run_creates_no_store(tmp_path):
    root = tmp_path / "none"
    src = str(capture_path("libtrace_100_packets.pcap"))
    result = CliRunner().invoke(main, ["ingest", "--store", str(root), "--dry-run", "--json", src])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["dry_run"] is True and data["packets"] > 0 and not root.exists()
    human = CliRunner().invoke(main, ["ingest", "--store", str(root), "--dry-run", src])
    assert "packets would be stored" in human.output and "dry run" in human.output
    assert not root.exists()
