"""`teiten report`: the period's observation report, in Japanese or English, as HTML, Markdown
or PDF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from teiten.cli.common import fail_cleanly, main, store_option


def _help_period() -> str:
    from teiten.analyze.periods import HELP

    return f"Period: {HELP}."


@main.command("report")
@store_option
@click.option("--period", required=True, help=_help_period())
@click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    default="ja",
    show_default=True,
    help="Language of the report.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf", "md"]),
    default=None,
    help="Output format [default: from --out's suffix, else html]. md writes its charts as "
    "SVG files into OUT_charts/ beside it; pdf needs chromium.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write.",
)
@click.option(
    "--metric",
    type=click.Choice(["per-sensor", "packets", "sources"]),
    default="per-sensor",
    show_default=True,
    help="What ranks ports and regions (per-sensor as TSUBAME, sources as NICTER).",
)
@click.option(
    "--focus-country",
    default="JP",
    show_default=True,
    metavar="CC",
    help="Country (ISO alpha-2) whose packets get their own section.",
)
@click.option(
    "--top",
    default=5,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Rows in each ranking table and lines in its chart.",
)
@click.option(
    "--page-png",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also render one page of the PDF as this PNG file (pdf only; see --page).",
)
@click.option(
    "--page",
    default=1,
    show_default=True,
    type=click.IntRange(1),
    help="Which page --page-png renders.",
)
@fail_cleanly
def report(store_dir: Path | None, period: str, **kw: Any) -> None:
    """Write the observation report of a period, as JPCERT/CC's quarterly one.

    Overview, top destination ports and source regions with their previous-period ranks
    and daily trends, notable phenomena, a focus country, scans and DoS backscatter,
    and the method. Ranking numbers equal `teiten top ... --metric M --json`. Sensor
    addresses never appear: sensors are only counted.
    """
    from teiten.analyze.periods import parse_period
    from teiten.report import build_report, pdf_page_png, write_report
    from teiten.store import Store

    out: Path = kw["out"]
    fmt = kw["fmt"] or {".pdf": "pdf", ".md": "md"}.get(out.suffix.lower(), "html")
    if kw["page_png"] is not None and fmt != "pdf":
        raise click.UsageError("--page-png renders a page of the PDF: use it with --format pdf")
    parsed = parse_period(period)
    data = build_report(
        Store(store_dir, create=False),
        parsed,
        metric=kw["metric"],
        focus_country=kw["focus_country"],
        top=kw["top"],
    )
    written = write_report(data, out, lang=kw["lang"], fmt=fmt)
    if kw["page_png"] is not None:
        written.append(pdf_page_png(out, kw["page_png"], page=kw["page"]))
    charts = len(written) - 1 if fmt == "md" else 0
    click.echo(
        f"wrote {out} ({fmt}, {kw['lang']}, {parsed.label})"
        + (f" and {charts} charts in {written[1].parent}" if charts else "")
        + (f"; page {kw['page']} as {kw['page_png']}" if kw["page_png"] is not None else "")
    )
