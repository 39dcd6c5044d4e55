"""`teiten report`: the period's observation report, in Japanese or English, as HTML, Markdown
or PDF."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import engine_option, fail_cleanly, lang_option, main, store_option
from teiten.cli.filters import country_option

# File extensions of each --format; --out must carry one of its format's.
SUFFIXES = {"html": (".html", ".htm"), "pdf": (".pdf",), "md": (".md", ".markdown")}


def _help_period() -> str:
    from teiten.analyze.periods import HELP

    return f"Period: {HELP}."


@main.command("report")
@store_option
@engine_option
@click.option("--period", required=True, help=_help_period())
@lang_option("ja", "Language of the report.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "pdf", "md"]),
    default=None,
    help="Output format [default: from --out's extension: .html/.htm, .md/.markdown, .pdf; "
    "html when it has none]. An extension of another format is a usage error. md writes its "
    "charts as SVG files into OUT_charts/ beside it; pdf needs chromium.",
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
@country_option(
    "--focus-country",
    default="JP",
    help="Country whose packets get their own section.",
)
@click.option(
    "--top",
    default=5,
    show_default=True,
    type=click.IntRange(1, 10),
    help="Rows in each ranking table and lines in its chart.",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="report.toml: organisation, contact, disclaimer, time zone, what may be published "
    "(docs/examples/report.toml) [default: none; sensor counts withheld, daily values rounded].",
)
@click.option(
    "--generated",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date the report says it was made on (YYYY-MM-DD) [default: SOURCE_DATE_EPOCH's "
    "day if set, else none: the same data gives the same bytes].",
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
def report(store_dir: Path | None, engine_name: str | None, period: str, **kw: Any) -> None:
    """Write the observation report of a period, as JPCERT/CC's quarterly one.

    Overview, top destination ports and source regions with their previous-period ranks
    and daily trends, notable phenomena, a focus country, scans and DoS backscatter,
    and the method. Ranking numbers equal `teiten top ... --metric M --json`. Sensor
    addresses never appear; their count and the darknet's size only with --config's
    publication.publish_sensor_counts. The same data and options give the same bytes;
    the method section names the data's digest and the command. A period without
    packets is an error (exit 1), not an empty report.
    """
    from teiten.analyze.periods import parse_period
    from teiten.report import build_report, pdf_page_png, write_report
    from teiten.store import Store

    out: Path = kw["out"]
    fmt = _format(out, kw["fmt"])
    if kw["page_png"] is not None:
        if fmt != "pdf":
            raise click.UsageError("--page-png renders a page of the PDF: use it with --format pdf")
        if kw["page_png"].suffix.lower() != ".png":
            raise click.BadParameter(
                f"{kw['page_png']} does not end in .png", param_hint="'--page-png'"
            )
    settings = _settings(kw["config"])
    parsed = parse_period(period)
    store = Store(store_dir, create=False)
    _require_packets(store, parsed, engine_name)
    data = build_report(
        store,
        parsed,
        metric=kw["metric"],
        focus_country=kw["focus_country"],
        top=kw["top"],
        settings=settings,
        generated=_generated(kw["generated"]),
        engine_name=engine_name,
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


def _settings(path: Path | None) -> Any:
    """report.toml's settings (none: the defaults); a bad file is a usage error (exit 2)."""
    from teiten.errors import SettingsFileError
    from teiten.report.settings import ReportSettings, load_settings

    if path is None:
        return ReportSettings()
    try:
        return load_settings(path)
    except SettingsFileError as exc:
        raise click.BadParameter(str(exc), param_hint="'--config'") from exc


def _generated(given: datetime | None) -> date | None:
    """--generated's date, else SOURCE_DATE_EPOCH's (reproducible-builds.org), else none."""
    if given is not None:
        return given.date()
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    try:
        return datetime.fromtimestamp(int(epoch), UTC).date()
    except (ValueError, OverflowError, OSError) as exc:
        raise click.UsageError(
            f"SOURCE_DATE_EPOCH must be whole seconds since 1970-01-01 UTC, not {epoch!r}"
        ) from exc


def _format(out: Path, fmt: str | None) -> str:
    """The format --out is written in: --format's, which its extension must agree with."""
    suffix = out.suffix.lower()
    implied = next((f for f, suffixes in SUFFIXES.items() if suffix in suffixes), None)
    if fmt is None:
        if suffix and implied is None:
            raise click.BadParameter(
                f"cannot tell the format of {out.name}: name it .html, .md or .pdf, "
                "or give --format",
                param_hint="'--out'",
            )
        return implied or "html"
    if suffix and implied != fmt:
        raise click.BadParameter(
            f"{out.name} has the extension of {implied or 'no report format'}, not of "
            f"--format {fmt}: name it {' or '.join(SUFFIXES[fmt])}",
            param_hint="'--out'",
        )
    return fmt


def _require_packets(store: Any, period: Any, engine_name: str | None) -> None:
    """An error (exit 1) when the period holds no packets: an empty report helps no one.
    Days whose raw packets raw retention dropped count by their rollups (``sources``)."""
    from teiten.store import open_engine, queries

    with open_engine(store, engine_name) as engine:
        for view in ("packets", "sources"):
            if engine.rows(*queries.holdings.has_rows(view, period.start, period.end)):
                return
        (held,) = engine.rows(*queries.holdings.held_days("sources"))
    span = (
        f"the store holds packets from {held['first']} to {held['last']}"
        if held["first"] is not None
        else "the store holds no packets"
    )
    raise click.ClickException(
        f"no packets in {period.label} ({period.start} – {period.last_day}), nothing to "
        f"report; {span} (teiten store info)"
    )
