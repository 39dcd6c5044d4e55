"""docs/decode.md documents every column and every skip reason."""

from __future__ import annotations

from pathlib import Path

from teiten.decode import COLUMNS, SKIP_REASONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "decode.md"


def test_every_column_is_documented() -> None:
    text = DOC.read_text()
    for name in [*COLUMNS, "ts_ns", "wirelen"]:
        assert f"`{name}`" in text, f"column {name} missing from {DOC.name}"


def test_every_skip_reason_is_documented() -> None:
    text = DOC.read_text()
    for code, reason in SKIP_REASONS.items():
        assert f"| {code} | {reason} |" in text, f"reason {code} missing from {DOC.name}"
