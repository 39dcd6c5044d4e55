"""`teiten sources` (who sent what in a period) and `teiten source IP` (one source's history)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.cli.common import (
    engine_option,
    fail_cleanly,
    json_option,
    main,
    period_option,
    store_option,
)
from teiten.cli.filters import country_option, source_network_options
from teiten.cli.tables import Answer, emit_answer, output_options

if TYPE_CHECKING:
    from teiten.store import Engine

# Columns of `teiten sources` rows (the CSV header when no source matches).
SOURCE_COLUMNS = (
    "source", "country", "asn", "first_seen", "last_seen", "packets", "ports", "tags",
)  # fmt: skip


@main.command("sources")
@store_option
@engine_option
@period_option
@click.option(
    "--tag", help="Only sources with a packet carrying this fingerprint tag (mirai, zmap, …)."
)
@country_option(help="Only sources in this country.")
@click.option("--port", help="Only sources that hit this port, e.g. 23/tcp (23 alone: tcp or udp).")
@click.option(
    "--traffic",
    type=click.Choice(["probe", "backscatter", "all"]),
    default="probe",
    show_default=True,
    help="Which packets count: probes, DoS backscatter, or all.",
)
@source_network_options
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1))
@output_options
@fail_cleanly
def sources_command(output: str, **kw: Any) -> None:
    """Sources of a period, most packets first: where, when, ports hit, tags."""
    emit_answer(sources_answer(**kw), output, _print_sources)


def sources_answer(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    tag: str | None,
    country: str | None,
    port: str | None,
    traffic: str,
    limit: int,
    asns: tuple[int, ...] = (),
    prefixes: tuple[str, ...] = (),
    engine: Engine | None = None,
) -> Answer:
    """The sources of ``teiten sources`` for its options (``engine``: one to run on, lent
    by the caller)."""
    from teiten.analyze.periods import parse_period
    from teiten.analyze.sources import SourceFilters, sources
    from teiten.cli.common import answering_engine
    from teiten.store import Store
    from teiten.store.retention import require_raw

    filters = SourceFilters(
        tag=tag, country=country, port=port, traffic=traffic, asns=asns, prefixes=prefixes
    )
    store = engine.store if engine is not None else Store(store_dir, create=False)
    parsed = parse_period(period)
    require_raw(store, parsed.start, parsed.last_day, f"the sources of {parsed.label}")
    with answering_engine(store, engine_name, engine) as engine:
        report = sources(engine, parsed, filters, limit=limit)
    return Answer(report, report.as_json(), report.rows, SOURCE_COLUMNS)


@main.command("source")
@store_option
@engine_option
@click.argument("ip")
@json_option
@fail_cleanly
def source_command(store_dir: Path | None, engine_name: str | None, ip: str, as_json: bool) -> None:
    """One source's whole history: per day, its scan events and the DoS attacks on it."""
    history = source_answer(store_dir, engine_name, ip)
    emit_answer(history, "json" if as_json else "table", _print_history)


def source_answer(
    store_dir: Path | None, engine_name: str | None, ip: str, engine: Engine | None = None
) -> Answer:
    """The history of ``teiten source IP`` (``engine``: one to run on, lent by the
    caller)."""
    from teiten.analyze.sources import source_history
    from teiten.cli.common import answering_engine

    with answering_engine(store_dir, engine_name, engine) as engine:
        history = source_history(engine, ip)
    return Answer(history, history, history["days"])


def _print_sources(report: Any) -> None:
    from rich.table import Table

    from teiten.cli.filters import filters_title
    from teiten.cli.output import out

    p = report.period
    table = Table(
        title=f"Sources, {p.label} ({p.start} – {p.last_day}), {report.filters.traffic} packets"
        + filters_title(report.filters.as_json(), skip=("traffic",)),
        title_justify="left",
    )
    for name in ("Source", "CC", "AS", "First seen (UTC)", "Last seen", "Packets", "Ports", "Tags"):
        table.add_column(
            name,
            justify="right" if name == "Packets" else "left",
            no_wrap=name in ("Source", "First seen (UTC)", "Last seen"),
        )
    for r in report.rows:
        table.add_row(
            r["source"],
            r["country"] or "",
            "" if r["asn"] is None else f"AS{r['asn']}",
            r["first_seen"][:19].replace("T", " "),
            r["last_seen"][:19].replace("T", " "),
            f"{r['packets']:,}",
            ", ".join(r["ports"][:5]) + (" …" if len(r["ports"]) > 5 else ""),
            ", ".join(r["tags"]),
        )
    out.print(table)
    t = report.total
    line = f"{t['sources']:,} sources, {t['packets']:,} packets"
    if t["withheld_sensor_sources"]:
        line += f"; {t['withheld_sensor_sources']:,} withheld (sensor addresses)"
    out.print(line, highlight=False)


def _print_history(h: dict[str, Any]) -> None:
    from teiten.cli.output import out

    if not h["days"]:
        out.print(f"{h['source']}: no packets in the store", highlight=False)
        return
    where = ", ".join(x for x in (h["country"], h["asn"] and f"AS{h['asn']}") if x)
    out.print(
        f"{h['source']}{f' ({where})' if where else ''}: {h['packets']:,} packets, "
        f"{h['first_seen'][:19]} .. {h['last_seen'][:19]} UTC"
        + (f"; tags: {', '.join(h['tags'])}" if h["tags"] else ""),
        highlight=False,
    )
    for d in h["days"]:
        out.print(
            f"  {d['day']}: {d['packets']:,} packets ({d['probe']:,} probes, "
            f"{d['backscatter']:,} backscatter); ports {', '.join(d['ports'][:6])}"
            + (f"; tags {', '.join(d['tags'])}" if d["tags"] else ""),
            highlight=False,
        )
    for s in h["scans"]:
        port = s["proto"] if s["port"] is None else f"{s['port']}/{s['proto']}"
        out.print(
            f"  scan {port}: {s['start'][:19]} .. {s['end'][:19]}, {s['packets']:,} packets to "
            f"{s['destinations']:,} darknet addresses, ~{s['rate_pps_internet_wide']:,.0f} pps "
            "Internet-wide",
            highlight=False,
        )
    for a in h["dos_attacks"]:
        out.print(
            f"  DoS attack on it ({a['proto']} {', '.join(a['ports'])}): {a['start'][:19]} .. "
            f"{a['end'][:19]}, {a['packets']:,} backscatter packets, "
            f"~{a['rate_pps_internet_wide']:,.0f} pps Internet-wide",
            highlight=False,
        )
    if not h["scans"] and not h["dos_attacks"]:
        out.print("  no scan events or DoS attacks", highlight=False)
    if h["raw_since"] and h["days"][0]["day"] < h["raw_since"]:
        out.print(
            f"  raw packets are kept from {h['raw_since']} on (raw retention): the days before "
            "are counted from the rollups, and their scan events and DoS attacks are not listed",
            highlight=False,
        )
