"""Write a report: HTML, Markdown (with its chart files) or PDF, in Japanese or English."""

from __future__ import annotations

from pathlib import Path

from teiten.errors import OptionError, ReportError
from teiten.report.compose import compose
from teiten.report.html import render_html
from teiten.report.markdown import render_markdown
from teiten.report.messages import Messages
from teiten.report.model import LANGUAGES, ReportData
from teiten.report.pdf import html_to_pdf

__all__ = ["FORMATS", "html_report", "write_report"]

FORMATS = ("html", "pdf", "md")


def html_report(data: ReportData, lang: str, out_name: str | None = None) -> str:
    """The report of ``data`` as one self-contained HTML page (``out_name``: the file name
    its method section's command writes)."""
    return render_html(compose(data, lang, out_name), Messages(lang)("contents"))


def write_report(data: ReportData, out: Path, *, lang: str = "ja", fmt: str = "html") -> list[Path]:
    """Write the report to ``out``; returns every file written (Markdown adds its charts)."""
    if lang not in LANGUAGES:
        raise OptionError(f"unknown report language {lang!r}: use one of {', '.join(LANGUAGES)}")
    if fmt not in FORMATS:
        raise OptionError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.is_dir():
        raise ReportError(
            f"{out} is a directory; give the report's file name, e.g. {out}/report.{fmt}"
        )
    if fmt == "pdf":
        return [html_to_pdf(html_report(data, lang, out.name), out)]
    if fmt == "html":
        files = {out: html_report(data, lang, out.name)}
    else:
        text, charts = render_markdown(compose(data, lang, out.name), out)
        files = {out: text, **charts}
    for path, text in files.items():
        _write(path, text)
    return list(files)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from exc
