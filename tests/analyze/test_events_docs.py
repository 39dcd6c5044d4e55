"""docs/events.md documents every event column and every command of the family."""

from __future__ import annotations

from conftest import ROOT
from teiten.analyze import dos, scans

DOC = ROOT / "docs" / "events.md"


def test_every_column_is_documented_and_matches_the_schema():
    text = DOC.read_text()
    assert tuple(scans._schema().names) == scans.SCAN_COLUMNS
    assert tuple(dos._schema().names) == dos.DOS_COLUMNS
    for name in (*scans.SCAN_COLUMNS, *dos.DOS_COLUMNS):
        assert f"`{name}`" in text, f"column {name} missing from {DOC.name}"


def test_every_command_is_documented():
    text = DOC.read_text()
    for command in (
        "teiten sensors declare",
        "teiten sensors list",
        "teiten events scans",
        "teiten events dos",
        "teiten sources",
        "teiten source ",
    ):
        assert command in text, f"{command} missing from {DOC.name}"
