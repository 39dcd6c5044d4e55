"""The PDF's page layout, measured on the pages Chromium prints (ja and en, a quarter
and a week of the simulated store):

* **Blank**: every page but the last is at most a quarter blank. A page's blank part
  is the rows from the bottom edge of its printable area (the A4 page less ``@page``'s
  margins) up to its lowest row with ink, as a fraction of the area's height
  (:func:`teiten.report.pdf.page_blank_fractions`, on pdftoppm's grey rendering).
* **Title**: each date of the title and the period line is on one line of the
  first page's text (``pdftotext -layout``), and stays whole when the report's own
  header is printed at any width from 50 to 180 mm.
* **Latin face**: every run of Latin letters or digits is drawn in Liberation Sans
  (poppler's ``pdftohtml -xml`` names each run's font), Japanese in IPAexGothic.
* **No justification** (which spreads Japanese lines out character by character,
  "が 公 開 さ れ"): few long lines end exactly at the column's right edge, as
  every one but a paragraph's last does when text is justified (``pdftotext
  -bbox-layout`` gives each line's extent).
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import require_tool
from teiten.analyze.periods import parse_period
from teiten.report import build_report, compose, html_report
from teiten.report.pdf import PAGE_MARGINS_MM, html_to_pdf, page_blank_fractions

from .conftest import PERIOD

MAX_BLANK = 0.25
WEEK = "2019-W20"
CASES = [(PERIOD, "ja"), (PERIOD, "en"), (WEEK, "ja"), (WEEK, "en")]
LATIN = re.compile(r"[A-Za-z0-9]")
KANA_KANJI = "\u3040-\u30ff\u4e00-\u9fff"


@pytest.fixture(scope="module")
def week_data(report_store):
    return build_report(report_store, parse_period(WEEK))


@pytest.fixture(scope="module")
def printed(report_data, week_data, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """``{(period, lang): {"pdf": path, "doc": Document}}``, printed two at a time."""
    require_tool("chromium")
    out = tmp_path_factory.mktemp("layout")
    data = {PERIOD: report_data, WEEK: week_data}

    def print_one(case: tuple[str, str]) -> Path:
        period, lang = case
        return html_to_pdf(html_report(data[period], lang), out / f"{period}.{lang}.pdf")

    with ThreadPoolExecutor(max_workers=2) as pool:
        pdfs = dict(zip(CASES, pool.map(print_one, CASES), strict=True))
    return {
        case: {"pdf": pdf, "doc": compose(data[case[0]], case[1])} for case, pdf in pdfs.items()
    }


def _text(pdf: Path, *args: str) -> str:
    done = subprocess.run(
        [require_tool("pdftotext"), *args, str(pdf), "-"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return unicodedata.normalize("NFKC", done.stdout)  # ⽉ (a Kangxi radical) → 月


def test_the_blank_measure_on_a_page_half_full(tmp_path):
    """A block half the printable height leaves half of it blank; an empty page is blank."""
    top, _, bottom, _ = PAGE_MARGINS_MM
    half = (297 - top - bottom) / 2
    html = (
        f"<style>@page {{ size: A4; margin: {' '.join(f'{m}mm' for m in PAGE_MARGINS_MM)} }}"
        f"body {{ margin: 0 }}</style><div style='height: {half}mm; background: #000'></div>"
        "<div style='break-before: page'></div>"
    )
    pdf = html_to_pdf(html, tmp_path / "half.pdf")
    assert page_blank_fractions(pdf) == [pytest.approx(0.5, abs=0.02), 1.0]


@pytest.mark.parametrize("case", CASES, ids=lambda case: ".".join(case))
def test_no_page_but_the_last_is_more_than_a_quarter_blank(printed, case):
    blank = page_blank_fractions(printed[case]["pdf"])
    assert len(blank) > 2, "too few pages to say anything about breaks"
    worst = max(blank[:-1])
    assert worst <= MAX_BLANK, f"pages' blank fractions: {[f'{b:.0%}' for b in blank]}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: ".".join(case))
def test_no_date_of_the_title_is_broken(printed, case):
    doc = printed[case]["doc"]
    assert doc.unbroken, "the document names no date to keep whole"
    lines = [
        re.sub(r"\s+", " ", line)
        for line in _text(printed[case]["pdf"], "-l", "1", "-layout").splitlines()
    ]
    for piece in doc.unbroken:
        piece = unicodedata.normalize("NFKC", piece)
        assert any(piece in line for line in lines), f"{piece!r} broken across lines: {lines[:4]}"


@pytest.mark.parametrize("case", CASES, ids=lambda case: ".".join(case))
def test_latin_text_is_set_in_the_latin_face(printed, case):
    done = subprocess.run(
        [require_tool("pdftohtml"), "-xml", "-i", "-stdout", str(printed[case]["pdf"])],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    root = ET.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", done.stdout))
    family = {spec.get("id"): spec.get("family", "") for spec in root.iter("fontspec")}
    faces: dict[str, set[str]] = {"latin": set(), "japanese": set()}
    for run in root.iter("text"):
        text = unicodedata.normalize("NFKC", "".join(run.itertext()))
        face = family[run.get("font")].split("+")[-1]
        if LATIN.search(text):
            faces["latin"].add(face)
        if re.search(f"[{KANA_KANJI}]", text):
            faces["japanese"].add(face)
    assert faces["latin"] <= {"LiberationSans", "LiberationSans-Bold"}, faces
    assert "LiberationSans" in faces["latin"]
    if case[1] == "ja":
        # IPAexGothic, and Skia's synthesised bold of it (an unnamed Type 3 font: "Times")
        assert faces["japanese"] <= {"IPAexGothic", "Times"}, faces
        assert "IPAexGothic" in faces["japanese"]


@pytest.mark.parametrize("case", CASES, ids=lambda case: ".".join(case))
def test_lines_are_not_justified(printed, case):
    """Justified lines all end at the column's right edge; ragged ones now and then."""
    edge = (210 - PAGE_MARGINS_MM[1]) / 25.4 * 72  # pt
    ends = [
        float(x)
        for x in re.findall(
            r'<line xMin="[^"]*" yMin="[^"]*" xMax="([^"]*)"',
            _text(printed[case]["pdf"], "-bbox-layout"),
        )
    ]
    full = [x for x in ends if x > edge - 15]  # lines that reach near the edge
    flush = [x for x in full if abs(x - edge) < 0.5]
    assert len(full) > 20, "too few long lines to tell"
    assert len(flush) / len(full) < 0.25, f"{len(flush)} of {len(full)} long lines end at the edge"


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_title_wraps_between_dates_at_any_width(week_data, lang, tmp_path):
    """The report's own header, printed at widths from 50 to 180 mm, never splits a date."""
    require_tool("chromium")
    html = html_report(week_data, lang)
    style = re.search(r"<style>.*?</style>", html, re.S)
    header = re.search(r"<header>.*?</header>", html, re.S)
    assert style and header
    widths = range(50, 181, 5)
    page = f"<html lang='{lang}'>{style[0]}<body>" + "".join(
        f"<div style='width: {w}mm'>{header[0]}</div>" for w in widths
    )
    text = _text(html_to_pdf(page, tmp_path / "headers.pdf"), "-layout")
    lines = [re.sub(r"\s+", " ", line) for line in text.splitlines()]
    for piece in compose(week_data, lang).unbroken:
        piece = unicodedata.normalize("NFKC", piece)
        whole = sum(line.count(piece) for line in lines)
        assert whole == 2 * len(widths), (
            f"{piece!r} split in {2 * len(widths) - whole} of its lines"
        )
