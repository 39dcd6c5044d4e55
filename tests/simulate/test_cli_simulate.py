"""`teiten simulate` and `teiten simulate scenarios`: outputs, JSON, determinism, bad input."""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner

from teiten.cli import main
from teiten.simulate import BUILTIN_SCENARIOS

SPAN = ["--start", "2019-05-13", "--end", "2019-05-15", "--packets", "5000", "--seed", "3"]


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def _digests(root) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_scenarios_lists_the_builtins():
    listed = json.loads(run("simulate", "scenarios", "--json"))
    assert [s["name"] for s in listed] == list(BUILTIN_SCENARIOS)
    assert "bluekeep-rdp-surge" in listed[0]["changes"]
    loud = next(s for s in listed if s["name"] == "loud-host")
    assert len(loud["hosts"]) == 3 and listed[0]["hosts"] == []
    assert "2019q2" in run("simulate", "scenarios")


def test_pcapng_captures_with_a_scenario_are_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    args = [*SPAN, "--scenario", "2019q2", "--format", "pcapng", "--sensors", "3", "--json"]
    data = json.loads(run("simulate", "--out", str(a), *args))
    assert len(data["files"]) == 3 * 2 and data["files"][0].endswith("s001-20190513.pcapng")
    truth = json.loads((a / "truth.json").read_text())
    assert truth["scenario"]["name"] == "2019q2" and truth["packets"] == 5000
    run("simulate", "--out", str(b), *args)
    assert _digests(a) == _digests(b)


def test_straight_into_a_store(tmp_path):
    sensors = tmp_path / "sensors.txt"
    sensors.write_text("# name prefix\ntokyo-1 192.0.2.0/24\nosaka-1 198.51.100.0/25\n")
    store, truth = tmp_path / "store", tmp_path / "truth.json"
    out = run("simulate", "--store", str(store), "--sensors", str(sensors), "--truth",
              str(truth), *SPAN, "--json")  # fmt: skip
    assert json.loads(out) == {"store": str(store), "packets": 5000, "truth": str(truth)}
    assert json.loads(truth.read_text())["by_sensor"].keys() == {"tokyo-1", "osaka-1"}
    info = json.loads(run("store", "info", "--store", str(store), "--json"))
    assert info["packets"] == 5000 and {s["sensor"] for s in info["sensors"]} == {
        "tokyo-1",
        "osaka-1",
    }


def test_bad_input_is_a_clear_error(tmp_path):
    assert "exactly one of --out" in run("simulate", *SPAN, code=2)
    assert "exactly one of --out" in run(
        "simulate", "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s"), *SPAN, code=2
    )
    assert "--start and --end" in run("simulate", "--out", str(tmp_path / "o"), code=2)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[[changes]]\nid = "c"\nkind = "boom"\n')
    out = run("simulate", "--out", str(tmp_path / "o"), *SPAN, "--scenario", str(bad), code=1)
    assert f"{bad}: changes[0] (c): field 'kind'" in out
    sensors = tmp_path / "sensors.txt"
    sensors.write_text("tokyo-1 192.0.2.0/33\n")
    out = run("simulate", "--out", str(tmp_path / "o"), *SPAN, "--sensors", str(sensors), code=1)
    assert f"{sensors}:1:" in out and "bad IPv4 prefix" in out
    assert "512" in run("simulate", "--out", str(tmp_path / "o"), *SPAN, "--sensors", "999",
                        code=2)  # fmt: skip
    assert not (tmp_path / "o").exists()  # nothing written on bad input
