"""``GET /api/v1/reports/{period}.{html,pdf,md}``: the observation report, made on demand.

The report ``teiten report --period P --lang L`` writes, with its default settings
(the publication-safe ones: no sensor count, daily values rounded), so public mode
serves it as it is. Made once per store version, period and language and kept in the
server's cache; a Markdown report's charts are at ``{period}_charts/…`` beside it, as
its links say. The HTML report carries its styles inline: it is served with a CSP of
its own that allows them and nothing else.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from teiten.errors import OptionError, ParameterError, StoreError, TeitenError

if TYPE_CHECKING:
    from teiten.web.app import _Server

__all__ = ["add_reports"]

_NAME = re.compile(
    r"(?P<period>[0-9A-Za-z.\-]+?)(?:\.(?P<fmt>html|pdf|md)|_charts/(?P<chart>[\w.-]+\.svg))"
)
_MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "md": "text/markdown; charset=utf-8",
    "svg": "image/svg+xml",
}
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


def add_reports(app: FastAPI, server: _Server) -> None:
    """The reports route on ``app``."""

    @app.get(
        "/api/v1/reports/{name:path}",
        summary="The observation report of a period (html, pdf or md), made on demand",
        description="`teiten report --period PERIOD --lang LANG --format FMT`, as a file: "
        "`/api/v1/reports/2019Q2.pdf?lang=en`.",
    )
    async def report(name: str, lang: str = "ja") -> Response:
        from teiten.web.app import _error, _invalid, store_version

        match = _NAME.fullmatch(name)
        if match is None:
            example = "e.g. 2019Q2.pdf, 2019-04.html, 2019Q2.md and its 2019Q2_charts/…"
            return _invalid(ParameterError("name", f"not a report: {name!r} ({example})"))
        if lang not in ("ja", "en"):
            message = f"Invalid value for 'lang': {lang!r} is not one of 'ja', 'en'."
            return _invalid(ParameterError("lang", message))
        period, fmt = match["period"], match["fmt"] or "md"
        file = f"{period}.{fmt}" if match["fmt"] else f"{period}_charts/{match['chart']}"
        version, _ = store_version(server.store)
        found = server.cache.get((version, "report", lang, file))
        if found is None:
            try:
                files = await run_in_threadpool(_make, server, period, lang, fmt)
            except OptionError as exc:
                return _invalid(ParameterError("name", str(exc)))
            except StoreError as exc:
                return _error(503, str(exc))
            except TeitenError as exc:
                return _error(400, str(exc))
            for relative, content in files.items():
                server.cache.put((version, "report", lang, relative), (content, _kind(relative)))
            if file not in files:
                return _error(404, f"the {period} report has no file {file}")
            found = (files[file], _kind(file))
        content, kind = found
        headers = {"Content-Security-Policy": REPORT_CSP} if kind == "html" else {}
        return Response(content, media_type=_MEDIA[kind], headers=headers)


def _kind(file: str) -> str:
    return file.rsplit(".", 1)[1]


def _make(server: _Server, period: str, lang: str, fmt: str) -> dict[str, bytes]:
    """The report's files, by path relative to the report (its charts for Markdown)."""
    from teiten.analyze.periods import parse_period
    from teiten.report import build_report, write_report
    from teiten.store import Store

    parsed = parse_period(period)
    data = build_report(Store(server.store, create=False), parsed, engine_name=server.config.engine)
    with tempfile.TemporaryDirectory(prefix="teiten-report-") as folder:
        out = Path(folder) / f"{period}.{fmt}"
        written = write_report(data, out, lang=lang, fmt=fmt)
        return {str(path.relative_to(folder)): path.read_bytes() for path in written}
