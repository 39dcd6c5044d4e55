"""`teiten events scans|dos`: scan events and DoS attacks of a period (stored, reused)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.analyze.scans import (
    MIN_DESTINATIONS_FLOOR,
    REFERENCE_MIN_DESTINATIONS,
    REFERENCE_MIN_RATE,
    ScanParams,
)
from teiten.cli.common import engine_option, fail_cleanly, main, period_option, store_option
from teiten.cli.filters import filters_title, source_network_options
from teiten.cli.tables import Answer, emit_answer, output_options

if TYPE_CHECKING:
    from teiten.store import Engine


def _limit_option(func: Any) -> Any:
    return click.option(
        "--limit", default=20, show_default=True, type=click.IntRange(1), help="Rows to show."
    )(func)


@main.group("events")
def events_group() -> None:
    """Scan events and DoS attacks found in a period (computed once, then stored)."""


@events_group.command("scans")
@store_option
@engine_option
@period_option
@click.option(
    "--min-destinations",
    type=click.IntRange(1),
    help=(
        "Distinct darknet addresses a scan must reach, overriding the default: Durumeric "
        f"et al.'s {REFERENCE_MIN_DESTINATIONS} addresses of a /8 scaled to the darknet's "
        f"size, at least {MIN_DESTINATIONS_FLOOR}."
    ),
)
@click.option(
    "--min-rate",
    type=click.FloatRange(0),
    help=(
        "Estimated Internet-wide rate a scan must reach, packets/s, overriding the "
        f"default ({REFERENCE_MIN_RATE:g}, Durumeric et al.)."
    ),
)
@click.option(
    "--timeout",
    default=ScanParams.timeout_s,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds of silence that end a scan.",
)
@source_network_options
@_limit_option
@output_options
@fail_cleanly
def events_scans(output: str, **kw: Any) -> None:
    """Scan events: one source sweeping one port, with its Internet-wide rate.

    Defaults after Durumeric et al., USENIX Security 2014, with the destination
    threshold scaled to the darknet's size (docs/events.md). Destination addresses
    are never shown, only counted. --asn and --prefix select the scanning sources.
    """
    emit_answer(scans_answer(**kw), output, _print)


def scans_answer(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    min_destinations: int | None,
    min_rate: float | None,
    timeout: float,
    limit: int,
    asns: tuple[int, ...] = (),
    prefixes: tuple[str, ...] = (),
    engine: Engine | None = None,
) -> Answer:
    """The scan events of ``teiten events scans`` for its options (``engine``: one to run
    on, lent by the caller)."""
    from teiten.analyze.events import in_networks
    from teiten.analyze.periods import parse_period
    from teiten.analyze.scans import scan_events
    from teiten.cli.common import answering_engine

    params = ScanParams(min_destinations=min_destinations, min_rate=min_rate, timeout_s=timeout)
    with answering_engine(store_dir, engine_name, engine) as engine:
        report = scan_events(engine, parse_period(period), params, limit=limit)
        report = in_networks(engine, report, asns, prefixes, limit=limit)
    return _answer(report)


@events_group.command("dos")
@store_option
@engine_option
@period_option
@source_network_options
@_limit_option
@output_options
@fail_cleanly
def events_dos(output: str, **kw: Any) -> None:
    """DoS attacks inferred from backscatter: victims, ports, duration, attack rate.

    Moore et al.'s rules as CAIDA's corsaro implements them: ≥ 25 packets, ≥ 60 s,
    ≥ 30 packets in some 60 s window; 300 s of silence ends an attack.
    --asn and --prefix select the victims (the backscatter's sources).
    """
    emit_answer(dos_answer(**kw), output, _print)


def dos_answer(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    limit: int,
    asns: tuple[int, ...] = (),
    prefixes: tuple[str, ...] = (),
    engine: Engine | None = None,
) -> Answer:
    """The DoS attacks of ``teiten events dos`` for its options (``engine``: one to run
    on, lent by the caller)."""
    from teiten.analyze.dos import dos_attacks
    from teiten.analyze.events import in_networks
    from teiten.analyze.periods import parse_period
    from teiten.cli.common import answering_engine

    with answering_engine(store_dir, engine_name, engine) as engine:
        report = dos_attacks(engine, parse_period(period), limit=limit)
        report = in_networks(engine, report, asns, prefixes, limit=limit)
    return _answer(report)


def _answer(report: Any) -> Answer:
    from teiten.analyze.dos import DOS_COLUMNS
    from teiten.analyze.scans import SCAN_COLUMNS

    columns = SCAN_COLUMNS if report.family == "scans" else DOS_COLUMNS
    return Answer(report, report.as_json(), report.rows, columns)


def _print(report: Any) -> None:
    from rich.table import Table

    from teiten.cli.output import out

    p, d = report.period, report.darknet
    scans = report.family == "scans"
    if scans:
        what = f"Scan events, {p.label} ({p.start} – {p.last_day}): {_thresholds(report)}"
    else:
        what = f"DoS attacks (backscatter), {p.label} ({p.start} – {p.last_day})"
    what += filters_title(report.filters)
    with_asn = any(r["asn"] is not None for r in report.rows)
    headers = [
        ("Source" if scans else "Victim", "left"),
        ("CC", "left"),
        *([("AS", "left")] if with_asn else []),
        ("Port" if scans else "Proto", "left"),
        ("Start (UTC)", "left"),
        ("End", "left"),
        ("Packets", "right"),
        ("Dests" if scans else "Ports", "right" if scans else "left"),
        ("Duration", "right"),
        ("Rate pps", "right"),
    ]
    table = Table(title=what, title_justify="left")
    for name, justify in headers:
        table.add_column(name, justify=justify, no_wrap=name != "Ports")  # type: ignore[arg-type]
    for r in report.rows:
        if scans:
            key = r["proto"] if r["port"] is None else f"{r['port']}/{r['proto']}"
            who, last = r["source"], f"{r['destinations']:,}"
        else:
            key, who, last = r["proto"], r["victim"], ", ".join(r["ports"])
        start = r["start"][:19].replace("T", " ")
        end = r["end"][11:19] if r["end"][:10] == r["start"][:10] else r["end"][:19]
        cells = [
            who,
            r["country"] or "",
            *([_asn(r["asn"])] if with_asn else []),
            key,
            ("… " if r["continues_before"] else "") + start,
            end.replace("T", " ") + (" …" if r["continues_after"] else ""),
            f"{r['packets']:,}",
            last,
            _duration(r["duration_s"]),
            _rate(r["rate_pps_internet_wide"]),
        ]
        table.add_row(*cells)
    out.print(table)
    shown = len(report.rows)
    line = f"{report.total:,} {'scan events' if scans else 'attacks'}"
    if shown < report.total:
        line += f" (showing {shown})"
    if report.withheld:
        line += f"; {report.withheld:,} withheld (their source is a sensor address)"
    out.print(line, highlight=False)
    out.print(
        "rate: packets/s Internet-wide, estimated as observed × 2^32 / darknet size; "
        f"darknet: {d.size:,} IPv4 addresses ({d.source}"
        + (
            "; undeclared sensors count the destinations they saw, so rates are upper bounds — "
            "teiten sensors declare NAME --addresses N"
            if d.source in ("observed", "mixed")
            else ""
        )
        + ")",
        highlight=False,
    )


def _thresholds(report: Any) -> str:
    """The scan thresholds in effect, and where they come from."""
    q = report.parameters
    derived = q["derived_from"]
    dests = f"≥ {q['min_destinations']:,} destinations"
    if derived["min_destinations"] == "scaled":
        ref = derived["reference"]
        dests += (
            f" ({ref['min_destinations']} per /8 scaled to the darknet, "
            f"at least {derived['min_destinations_floor']})"
        )
    else:
        dests += " (set)"
    rate = f"≥ {q['min_rate']:g} pps Internet-wide" + (
        " (set)" if derived["min_rate"] == "set" else ""
    )
    if q["rate_condition"] == "darknet":
        rate += f", i.e. ≥ {q['min_rate_darknet']:.3g} pps at the darknet (no estimate)"
    elif q["rate_condition"] == "implied":
        rate += " (met by every session at this darknet's size)"
    return f"{dests}, {rate}, {q['timeout_s']:g} s timeout"


def _asn(asn: int | None) -> str:
    return "" if asn is None else f"AS{asn}"


def _duration(seconds: float) -> str:
    s = round(seconds)
    if s < 120:
        return f"{seconds:.1f}s"
    if s < 7200:
        return f"{s // 60}m"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _rate(pps: float) -> str:
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if pps >= scale:
            return f"{pps / scale:.1f}{unit}"
    return f"{pps:.1f}"
