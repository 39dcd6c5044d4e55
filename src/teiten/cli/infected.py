"""`teiten infected`: a country's infected hosts per AS, new and gone, and per day."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.cli.common import engine_option, fail_cleanly, main, period_option, store_option
from teiten.cli.filters import country_option
from teiten.cli.tables import Answer, emit_answer, output_options

if TYPE_CHECKING:
    from teiten.analyze.infected import NationalSummary
    from teiten.store import Engine

# The CSV header when no AS row is shown (a row's own keys otherwise).
COLUMNS = (
    "rank", "asn", "name", "packets", "sources", "per_sensor", "share", "previous_rank",
    "previous_sources", "new", "gone",
)  # fmt: skip
NO_AS_DATA = (
    "no AS data: none of these sources carries an AS number; import an AS table "
    "(teiten asn import FILE) and set the stored days' numbers (teiten store retag --asn)"
)


@main.command("infected")
@store_option
@engine_option
@period_option
@country_option(default="JP", help="The country whose infected hosts are summed up.")
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(1), help="ASes to show."
)
@output_options
@fail_cleanly
def infected(output: str, **kw: Any) -> None:
    """A country's infected (Mirai-type) hosts: per AS, with the previous period's count
    and how many are new and gone; the country's total; and its infected hosts per day.

    The national summary behind "notifications reduced Mirai-type scanning from
    Japan" (docs/asn.md). Without AS data the total and the days are still given."""
    emit_answer(infected_answer(**kw), output, _print)


def infected_answer(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    country: str,
    limit: int,
    engine: Engine | None = None,
) -> Answer:
    """The summary of ``teiten infected`` for its options (``engine``: one to run on,
    lent by the caller)."""
    from teiten.analyze.infected import national_summary
    from teiten.analyze.periods import parse_period
    from teiten.cli.common import answering_engine
    from teiten.store.asn import as_names

    parsed = parse_period(period)
    with answering_engine(store_dir, engine_name, engine) as engine:
        names = as_names(engine.store.root)
        summary = national_summary(engine, parsed, country, limit=limit, as_names=names)
    return Answer(summary, summary.as_json(), summary.rows, COLUMNS)


def _print(summary: NationalSummary) -> None:
    from rich.table import Table

    from teiten.cli.output import change_marker, out

    p, t = summary.period, summary.total
    previous = p.previous().label
    out.print(
        f"Infected (Mirai-type) sources in {summary.country}, {p.label} ({p.start} – "
        f"{p.last_day}): {t['sources']:,}; {previous}: {t['previous_sources']:,} "
        f"({t['new']:,} new, {t['gone']:,} gone)",
        highlight=False,
    )
    if summary.by_as is not None:
        table = Table(title="By AS, most sources first", title_justify="left")
        for name in ("Rank", "Prev", "", "AS", "Holder", "Sources", previous, "Change"):
            table.add_column(name, justify="left" if name in ("AS", "Holder") else "right")
        table.add_column("New", justify="right")
        table.add_column("Gone", justify="right")
        for r in summary.rows:
            change = r["sources"] - r["previous_sources"]
            table.add_row(
                str(r["rank"]),
                "" if r["previous_rank"] is None else str(r["previous_rank"]),
                change_marker(r["rank"], r["previous_rank"]),
                "—" if r["asn"] is None else f"AS{r['asn']}",
                r["name"] or "",
                f"{r['sources']:,}",
                f"{r['previous_sources']:,}",
                f"{change:+,}",
                f"{r['new']:,}",
                f"{r['gone']:,}",
            )
        out.print(table)
    elif not summary.as_data and (t["sources"] or t["previous_sources"]):
        out.print(NO_AS_DATA, highlight=False)
    values = summary.trend.values
    if any(values):
        peak = max(range(len(values)), key=values.__getitem__)
        out.print(
            f"Per day: {values[0]:,} on {summary.trend.buckets[0]}, {values[-1]:,} on "
            f"{summary.trend.buckets[-1]}, most {values[peak]:,} on "
            f"{summary.trend.buckets[peak]} (--json has every day)",
            highlight=False,
        )
