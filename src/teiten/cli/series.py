"""`teiten series`: counts per day or per hour for any filter, with the tag breakdown."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.analyze.series import BY, METRICS
from teiten.cli.common import engine_option, fail_cleanly, main, period_option, store_option
from teiten.cli.filters import packet_filter_options
from teiten.cli.tables import Answer, emit_answer, output_options

if TYPE_CHECKING:
    from teiten.store import Engine


@main.command("series")
@store_option
@engine_option
@period_option
@click.option(
    "--by",
    type=click.Choice(BY),
    default="day",
    show_default=True,
    help="Bucket: day (from the rollups) or hour (from the raw packets; 31 days at most).",
)
@click.option(
    "--metric",
    type=click.Choice(METRICS),
    default="packets",
    show_default=True,
    help="What to count: packets, or distinct sources (each once per bucket).",
)
@packet_filter_options
@click.option(
    "--port", help="Only packets to this destination port, e.g. 23/tcp (23 alone: tcp or udp)."
)
@output_options
@fail_cleanly
def series_command(output: str, **kw: Any) -> None:
    """Packets or distinct sources per day or hour, and how many carry each scanner tag."""
    emit_answer(series_answer(**kw), output, _print)


def series_answer(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    by: str,
    metric: str,
    traffic: str,
    country: str | None,
    sensor: str | None,
    proto: str | None,
    tags: tuple[str, ...],
    exclude_tags: tuple[str, ...],
    port: str | None,
    asns: tuple[int, ...] = (),
    prefixes: tuple[str, ...] = (),
    engine: Engine | None = None,
) -> Answer:
    """The series of ``teiten series`` for its options (``engine``: one to run on, lent
    by the caller)."""
    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import Filters
    from teiten.analyze.series import series, series_rows
    from teiten.cli.common import answering_engine
    from teiten.cli.filters import check_sensor

    parsed = parse_period(period)
    filters = Filters(
        country=country,
        sensor=sensor,
        proto=proto,
        tags=tags,
        exclude_tags=exclude_tags,
        port=port,
        asns=asns,
        prefixes=prefixes,
    )
    with answering_engine(store_dir, engine_name, engine) as engine:
        check_sensor(engine, filters.sensor)
        counts = series(engine, parsed, by=by, metric=metric, traffic=traffic, filters=filters)
    body = counts.as_json()
    return Answer(counts, body, series_rows(body), ("bucket", "value", *counts.breakdown))


def _print(counts: Any) -> None:
    from rich.table import Table

    from teiten.cli.filters import filters_title
    from teiten.cli.output import TAG_HEADERS, out

    p = counts.period
    table = Table(
        title=f"{counts.metric.capitalize()} per {counts.by}, {p.label} ({p.start} – "
        f"{p.last_day}), {counts.traffic} packets" + filters_title(counts.filters.as_json()),
        title_justify="left",
    )
    table.add_column("Hour (UTC)" if counts.by == "hour" else "Day")
    for name in (counts.metric.capitalize(), *counts.breakdown):
        table.add_column(TAG_HEADERS.get(name, name.capitalize()), justify="right")
    lines = [counts.values, *counts.breakdown.values()]
    for i, bucket in enumerate(counts.buckets):
        shown = bucket.replace("T", " ").removesuffix(":00Z")  # 2024-03-01 05:00
        table.add_row(shown, *(f"{line[i]:,}" for line in lines))
    out.print(table)
