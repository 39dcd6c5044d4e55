"""The report as PDF (A4), printed from its HTML by headless Chromium; pages as PNG.

Chromium lays out the Japanese text with the system's fonts (IPAexGothic from
Debian's ``fonts-ipaexfont-gothic``) and embeds them, so the PDF reads the same
anywhere. It runs with a throw-away profile, no network features, and a timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt

from teiten.errors import ReportError

__all__ = [
    "CHROMIUM_NAMES",
    "PAGE_MARGINS_MM",
    "find_chromium",
    "html_to_pdf",
    "page_blank_fractions",
    "pdf_page_png",
]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120.0
#: The A4 page's margins (top, right, bottom, left) in mm, as ``@page`` in report.css sets them.
PAGE_MARGINS_MM = (15.0, 14.0, 16.0, 14.0)
#: A grey level at or above this is paper (anti-aliasing leaves faint pixels near ink).
PAPER = 250


def find_chromium() -> str:
    """Path of a headless-capable Chromium, or a ReportError saying how to install one."""
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    raise ReportError(
        "PDF output needs Chromium, which is not installed (looked for "
        f"{', '.join(CHROMIUM_NAMES)} on PATH); install it with `apt-get install chromium` "
        "(and `fonts-ipaexfont-gothic` for Japanese), or write --format html and print that"
    )


def html_to_pdf(html: str, out: Path, *, timeout: float = TIMEOUT_S) -> Path:
    """Print ``html`` to the PDF file ``out`` (written whole, or not at all)."""
    chromium = find_chromium()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="teiten-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        pdf = Path(tmp) / "report.pdf"
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            f"--print-to-pdf={pdf}",
            "--no-pdf-header-footer",
            page.as_uri(),
        ]
        _run(command, timeout, "Chromium")
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise ReportError(f"Chromium ran but wrote no PDF for {out}; run it by hand: {command}")
        _move(pdf, out)
    return out


def pdf_page_png(pdf: Path, out: Path, *, page: int = 1, dpi: int = 110) -> Path:
    """Render one page of ``pdf`` as the PNG file ``out`` (poppler's ``pdftoppm``)."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        raise ReportError(
            "rendering a page as PNG needs pdftoppm; "
            "install it with `apt-get install poppler-utils`"
        )
    if page < 1:
        raise ReportError(f"page numbers start at 1, not {page}")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="teiten-page-") as tmp:
        stem = Path(tmp) / "page"
        command = [tool, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page)]
        try:
            _run([*command, "-singlefile", str(pdf), str(stem)], TIMEOUT_S, "pdftoppm")
        except ReportError as exc:
            raise ReportError(f"{pdf}: cannot render page {page}: {exc}") from exc
        png = stem.with_suffix(".png")
        if not png.exists():
            raise ReportError(f"{pdf} has no page {page}")
        _move(png, out)
    return out


def page_blank_fractions(
    pdf: Path, *, dpi: int = 40, margins_mm: tuple[float, ...] = PAGE_MARGINS_MM
) -> list[float]:
    """How much of each page of ``pdf`` is left blank at its foot, from 0 (full) to 1 (empty).

    A page's printable area is the page less ``margins_mm`` (``@page``'s margins); its
    blank part is the rows from the area's bottom edge up to the lowest row with ink
    (a pixel darker than paper), as a fraction of the area's height. That is the space
    a page break left unused: content flows top down, so the gap it leaves is at the foot.
    """
    tool = _poppler("pdftoppm")
    with tempfile.TemporaryDirectory(prefix="teiten-pages-") as tmp:
        _run([tool, "-gray", "-r", str(dpi), str(pdf), str(Path(tmp) / "p")], TIMEOUT_S, "pdftoppm")
        pages = sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if not pages:
            raise ReportError(f"{pdf}: pdftoppm rendered no page")
        fractions = []
        for page in pages:
            pixels = _read_pgm(page)
            height = pixels.shape[0]
            top = round(margins_mm[0] / 25.4 * dpi)
            bottom = height - round(margins_mm[2] / 25.4 * dpi)
            inked = np.flatnonzero((pixels[top:bottom] < PAPER).any(axis=1))
            blank_rows = bottom - top - (inked[-1] + 1 if inked.size else 0)
            fractions.append(float(blank_rows) / (bottom - top))
    return fractions


def _read_pgm(path: Path) -> npt.NDArray[np.uint8]:
    """The grey levels of a binary PGM (P5, 8 bit) as rows of pixels."""
    data = path.read_bytes()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)
    if header is None:
        raise ReportError(f"{path}: not an 8-bit binary PGM")
    width, height = int(header[1]), int(header[2])
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height, offset=header.end())
    return pixels.reshape(height, width)


def _poppler(name: str) -> str:
    if tool := shutil.which(name):
        return tool
    raise ReportError(f"{name} is not installed; install it with `apt-get install poppler-utils`")


def _run(command: list[str], timeout: float, name: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ReportError(f"{name} did not finish within {timeout:g} s; try again") from exc
    except OSError as exc:
        raise ReportError(f"{name} could not be started: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ReportError(f"{name} failed (exit status {done.returncode}): {' '.join(detail)}")


def _move(src: Path, out: Path) -> None:
    """Put ``src`` at ``out`` atomically (a partial file never appears at ``out``)."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.part")
        shutil.copyfile(src, tmp)
        tmp.replace(out)
    except OSError as exc:
        raise ReportError(f"cannot write {out}: {exc.strerror or exc}") from exc
