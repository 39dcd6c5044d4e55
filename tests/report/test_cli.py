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
    assert "## 5. Packets from the United States" in text
    assert len(list((tmp_path / "q2_charts").glob("*.svg"))) >= 5


def test_bad_input_is_reported_and_writes_nothing(report_store, tmp_path):
    store = ("--store", str(report_store.root))
    out = tmp_path / "r.html"
    bad_period = run(*store, "--period", "2019Q5", "--out", str(out))
    assert bad_period.exit_code == 2 and "--period" in bad_period.output
    bad_country = run(*store, "--period", PERIOD, "--out", str(out), "--focus-country", "XX")
    assert bad_country.exit_code == 2 and "unknown country 'XX'" in bad_country.output
    png_without_pdf = run(*store, "--period", PERIOD, "--out", str(out), "--page-png", "p.png")
    assert png_without_pdf.exit_code == 2 and "--format pdf" in png_without_pdf.output
    no_store = run("--store", str(tmp_path / "nothing"), "--period", PERIOD, "--out", str(out))
    assert no_store.exit_code == 1 and "not a teiten store (no manifest)" in no_store.output
    bad_top = run(*store, "--period", PERIOD, "--out", str(out), "--top", "11")
    assert bad_top.exit_code == 2
    assert not out.exists()
    unwritable = tmp_path / "file"
    unwritable.write_text("x")
    result = run(*store, "--period", PERIOD, "--out", str(unwritable / "r.html"))
    assert result.exit_code == 1 and "cannot write" in result.output
    assert list(tmp_path.iterdir()) == [unwritable]


def test_out_extension_must_agree_with_format(report_store, tmp_path):
    store = ("--store", str(report_store.root), "--period", PERIOD)
    for fmt, name in (("pdf", "r.html"), ("md", "r.pdf"), ("html", "r.md"), ("html", "r.txt")):
        result = run(*store, "--format", fmt, "--out", str(tmp_path / name))
        assert result.exit_code == 2, result.output
        assert f"--format {fmt}" in result.output and name in result.output
    unknown = run(*store, "--out", str(tmp_path / "r.txt"))
    assert unknown.exit_code == 2 and "cannot tell the format of r.txt" in unknown.output
    png = run(*store, "--format", "pdf", "--out", str(tmp_path / "r.pdf"), "--page-png", "p.jpg")
    assert png.exit_code == 2 and "p.jpg does not end in .png" in png.output
    assert list(tmp_path.iterdir()) == []


def test_focus_country_by_name(report_store, tmp_path):
    out = tmp_path / "r.md"
    result = run("--store", str(report_store.root), "--period", PERIOD, "--out", str(out),
                 "--lang", "en", "--focus-country", "United States", "--format", "md")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "## 5. Packets from the United States" in out.read_text(encoding="utf-8")


def test_period_without_packets_is_an_error(report_store, tmp_path):
    out = tmp_path / "r.html"
    result = CliRunner().invoke(
        main, ["report", "--store", str(report_store.root), "--period", "2030Q1", "--out", str(out)]
    )
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "no packets in 2030Q1 (2030-01-01 – 2030-03-31), nothing to report" in message
    assert "the store holds packets from 2019-01-01" in message
    assert not out.exists()
