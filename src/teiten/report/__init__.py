"""The observation report: a period's rankings, trends, phenomena and events, as
JPCERT/CC publishes its quarterly fixed-point observation report — in Japanese or
English, as HTML, Markdown or PDF::

    data = build_report(Store("teiten-data"), parse_period("2019Q2"))  # gathered once
    write_report(data, Path("2019Q2.pdf"), lang="ja", fmt="pdf")
    pdf_page_png(Path("2019Q2.pdf"), Path("page1.png"), page=1)

Stages: :mod:`.build` reads the store into :class:`ReportData` (rankings exactly as
``teiten top`` gives them); :mod:`.compose` turns it into a document in one language
(:mod:`.messages` holds the words, :mod:`.charts` draws the SVG); :mod:`.html`,
:mod:`.markdown` and :mod:`.pdf` lay the document out.
"""

from teiten.errors import ReportError
from teiten.report.build import build_report
from teiten.report.compose import Document, compose
from teiten.report.model import LANGUAGES, ReportData
from teiten.report.pdf import pdf_page_png
from teiten.report.render import FORMATS, html_report, write_report

__all__ = [
    "FORMATS",
    "LANGUAGES",
    "Document",
    "ReportData",
    "ReportError",
    "build_report",
    "compose",
    "html_report",
    "pdf_page_png",
    "write_report",
]
