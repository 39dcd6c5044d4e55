"""The PDF (headless Chromium): Japanese headings and the top-5 ports in its text, every
character drawn with a real glyph, and a page rendered as PNG.

Missing glyphs ("tofu" boxes) are checked through the fonts, not the pixels:

1. ``pdffonts`` lists what the PDF embeds. The only named fonts must be subsets of
   Liberation Sans (regular and bold, the report's Latin face) and IPAexGothic (its
   Japanese face, which also has every Latin glyph): had any character been missing
   from both, Chromium would have fallen back to another family, which would be
   embedded and listed too. (Chromium also writes unnamed Type 3 fonts: Skia's
   synthesised bold of IPAexGothic, for headings and table heads.)
2. ``fc-query`` gives IPAexGothic's character map (fontconfig's charset ranges);
   every character of the report's visible text must be in it — so IPAexGothic
   has a real glyph for each, and glyph 0 (``.notdef``, the box) is never drawn.
3. ``pdftotext`` must give the headings and the top-5 port labels back, and no
   U+FFFD (a glyph without a character).
"""

from __future__ import annotations

import re
import struct
import subprocess

import pytest

from conftest import require_tool
from teiten.report import ReportError, html_report, pdf_page_png, write_report
from teiten.report.pdf import html_to_pdf

from .conftest import sensor_prefix_forms, visible_text
from .test_render import JA_HEADINGS


@pytest.fixture(scope="module")
def pdf_ja(report_data, tmp_path_factory):
    require_tool("chromium")
    out = tmp_path_factory.mktemp("pdf") / "report-ja.pdf"
    write_report(report_data, out, lang="ja", fmt="pdf")
    return out


def _charset(font_file: str) -> set[int]:
    ranges = subprocess.run(
        [require_tool("fc-query"), "--format=%{charset}", font_file],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    chars: set[int] = set()
    for r in ranges:
        lo, _, hi = r.partition("-")
        chars.update(range(int(lo, 16), int(hi or lo, 16) + 1))
    return chars


def test_pdf_text_has_japanese_headings_and_top_ports(pdf_ja, report_data):
    text = subprocess.run(
        [require_tool("pdftotext"), "-layout", str(pdf_ja), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = re.sub(r"\s+", "", text)
    for heading in JA_HEADINGS:
        assert re.sub(r"\s+", "", heading) in flat, heading
    for row in report_data.ports.ranking.rows[:5]:
        assert f"{row['port']}/{row['proto'].upper()}" in text
    assert "\ufffd" not in text
    for form in sensor_prefix_forms():
        assert form.lower() not in text.lower()


def test_every_character_has_a_glyph_in_the_embedded_cjk_font(pdf_ja, report_data):
    listing = subprocess.run(
        [require_tool("pdffonts"), str(pdf_ja)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    named = {line.split()[0].split("+", 1)[-1] for line in listing if not line.startswith("[")}
    assert named == {"IPAexGothic", "LiberationSans", "LiberationSans-Bold"}, listing
    assert all(line.split()[-5] == "yes" for line in listing)  # every font embedded
    font_file = subprocess.run(
        [require_tool("fc-match"), "--format=%{file}", "IPAexGothic"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    charset = _charset(font_file)
    text = visible_text(html_report(report_data, "ja"))
    missing = sorted({c for c in text if not c.isspace() and ord(c) not in charset})
    assert not missing, f"no glyph in IPAexGothic for {missing}"


def test_one_page_as_png(pdf_ja, tmp_path):
    require_tool("pdftoppm")
    png = pdf_page_png(pdf_ja, tmp_path / "page.png", page=1, dpi=50)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert height / width == pytest.approx(297 / 210, rel=0.02)  # A4 portrait
    with pytest.raises(ReportError, match=r"cannot render page 99.*last page"):
        pdf_page_png(pdf_ja, tmp_path / "none.png", page=99)


def test_missing_chromium_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find
    with pytest.raises(ReportError, match="apt-get install chromium"):
        html_to_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
