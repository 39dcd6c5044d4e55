"""`teiten report`: formats from the suffix, clear errors for bad input, nothing half-written."""

from __future__ import annotations

from click.testing import CliRunner

from teiten.cli import main

from .conftest import PERIOD


def run(*args: str):
    return CliRunner().invoke(main, ["report", *args])


def test_markdown_with_its_charts(report_store, tmp_path):
    out = tmp_path / "q2.md"
    result = run(
        "--store",
        str(report_store.root),
        "--period",
        PERIOD,
        "--out",
        str(out),
        "--lang",
        "en",
        "--metric",
        "sources",
        "--top",
        "3",
        "--focus-country",
        "us",
    )
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (md, en, 2019Q2)" in result.output
    text = out.read_text(encoding="utf-8")
    assert "Top 3 destination ports by distinct sources" in text
    assert "## 5. Packets from United States" in text
    assert len(list((tmp_path / "q2_charts").glob("*.svg"))) >= 5


def test_bad_input_is_reported_and_writes_nothing(report_store, tmp_path):
    store = ("--store", str(report_store.root))
    out = tmp_path / "r.html"
    bad_period = run(*store, "--period", "2019Q5", "--out", str(out))
    assert bad_period.exit_code == 2 and "--period" in bad_period.output
    bad_country = run(*store, "--period", PERIOD, "--out", str(out), "--focus-country", "JPN")
    assert bad_country.exit_code == 2 and "alpha-2" in bad_country.output
    png_without_pdf = run(*store, "--period", PERIOD, "--out", str(out), "--page-png", "p.png")
    assert png_without_pdf.exit_code == 2 and "--format pdf" in png_without_pdf.output
    no_store = run("--store", str(tmp_path / "nothing"), "--period", PERIOD, "--out", str(out))
    assert no_store.exit_code == 1 and "no teiten store here" in no_store.output
    bad_top = run(*store, "--period", PERIOD, "--out", str(out), "--top", "11")
    assert bad_top.exit_code == 2
    assert not out.exists()
    unwritable = tmp_path / "file"
    unwritable.write_text("x")
    result = run(*store, "--period", PERIOD, "--out", str(unwritable / "r.html"))
    assert result.exit_code == 1 and "cannot write" in result.output
    assert list(tmp_path.iterdir()) == [unwritable]
