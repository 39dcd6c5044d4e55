"""The report as one self-contained HTML file: inline CSS, inline SVG, nothing fetched.

No element refers to anything outside the file (no ``src``/``href`` to the
network or the disk, no web fonts), so it opens offline, mails as one
attachment, and prints to PDF the same everywhere.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import jinja2

from teiten.report.compose import Document

__all__ = ["render_html"]


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("teiten.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@cache
def _css() -> str:
    return (files("teiten.report") / "templates" / "report.css").read_text(encoding="utf-8")


def render_html(doc: Document, contents: str) -> str:
    """The HTML of ``doc``; ``contents`` is the heading of its table of contents."""
    template = _environment().get_template("report.html.j2")
    return template.render(doc=doc, css=_css(), contents=contents)
