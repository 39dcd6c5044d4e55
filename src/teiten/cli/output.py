"""Human output of the CLI: tables with rank changes, and progress bars."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from rich.table import Table

from teiten import numbers

if TYPE_CHECKING:
    from teiten.analyze.rankings import Ranking
    from teiten.ingest import IngestReport

PROGRESS_MIN_BYTES = 64 << 20  # inputs smaller than this finish before a bar helps

out = Console()
if not out.is_terminal:  # pipes and logs: wide enough for the tables, never wrapped at 80
    out = Console(width=120)
err = Console(stderr=True)


@contextlib.contextmanager
def ingest_progress(paths: Sequence[Path], *, enabled: bool) -> Iterator[Any]:
    """A progress callback (bytes consumed) drawing a bar on large inputs, else None."""
    total = 0
    for p in paths:
        with contextlib.suppress(OSError):
            total += os.path.getsize(p)
    if not enabled or total < PROGRESS_MIN_BYTES:
        yield None
        return
    columns = ("{task.description}", BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("ingesting", total=total)
        yield lambda n: bar.advance(task, n)


def print_ingest(report: IngestReport) -> None:
    data = report.as_json()
    stored = "packets would be stored" if report.dry_run else "packets stored"
    for r in report.results:
        line = f"{r.file}: {r.status}, {r.packets:,} {stored}"
        if r.duplicates:
            line += f", {r.duplicates:,} already in the store"
        if r.overlapping:
            line += f", {r.overlapping:,} overlapping stored packets"
        if r.skipped:
            line += f", {r.skipped:,} skipped"
        out.print(line, highlight=False)
        for reason, count in r.skipped_reasons.items():
            out.print(f"    skipped {count:,}: {reason}", highlight=False)
        for warning in r.warnings:
            out.print(f"    warning: {warning}", style="yellow", highlight=False)
        if r.error:
            err.print(f"    error: {r.error}", style="red", highlight=False)
    out.print(
        f"{data['files']} files: {data['packets']:,} {stored}, "
        f"{data['duplicates']:,} duplicates, {data['overlapping']:,} overlapping, "
        f"{data['skipped']:,} skipped, "
        f"{len(data['errors'])} errors"
        + (" (dry run: the store was not changed)" if report.dry_run else ""),
        highlight=False,
    )
    for day in report.compacted:
        out.print(
            f"compacted {day.day}: {day.files_before} files → {day.files_after}", highlight=False
        )
    if report.compact_error:
        out.print(f"warning: {report.compact_error}", style="yellow", highlight=False)


def change_marker(rank: int, previous: int | None) -> str:
    """▲n / ▼n / = against the previous rank, NEW when it had no packets then."""
    if previous is None:
        return "NEW"
    if previous > rank:
        return f"▲{previous - rank}"
    if previous < rank:
        return f"▼{rank - previous}"
    return "="


ATTRIBUTION_MARKS = {"one-host": "†", "few-hosts": "‡"}  # after a row's packets


def attribution_notes(ranking: Ranking) -> list[str]:
    """Footnotes for the marks the ranking's rows carry, in words, with the threshold."""
    share = f"{ranking.attribution_threshold:.0%}".replace("%", " %")
    words = {
        "one-host": f"mostly one host (top source ≥ {share} of the row's packets)",
        "few-hosts": f"mostly a few hosts (top 3 sources ≥ {share} of the row's packets)",
    }
    used = {row.get("attribution") for row in ranking.rows}
    return [f"{mark} {words[kind]}" for kind, mark in ATTRIBUTION_MARKS.items() if kind in used]


TAG_HEADERS = {"mirai": "Mirai", "zmap": "ZMap", "masscan": "Masscan", "research": "Research"}


def _known_for(items: Sequence[dict[str, Any]], limit: int = 3) -> str:
    """The first CVEs and malware families of a port's knowledge, e.g. ``CVE-2019-0708, …``."""
    named = [i["id"] for i in items if i["kind"] in ("cve", "malware")] or [
        i["title"] for i in items
    ]
    more = len(named) - limit
    return ", ".join(named[:limit]) + (f" (+{more})" if more > 0 else "")


_RANKED = {"ports": "destination ports", "countries": "source countries", "asns": "source ASes"}
_KEY_HEADERS = {
    "ports": ("Port", "Service"),
    "countries": ("CC", "Country"),
    "asns": ("AS", "Holder"),
}


def print_ranking(ranking: Ranking, share_columns: Sequence[str] = ("mirai",)) -> None:
    from teiten.cli.filters import filters_title

    what = _RANKED[ranking.dimension]
    title = (
        f"Top {what}, {ranking.period.label} ({ranking.period.start} – {ranking.period.last_day}), "
        f"{ranking.traffic} packets by {ranking.metric}; previous: {ranking.previous.label}"
        + filters_title(ranking.filters.as_json())
    )
    table = Table(title=title, title_justify="left")
    table.add_column("Rank", justify="right")
    table.add_column("Prev", justify="right")
    table.add_column("", justify="left")
    for name in _KEY_HEADERS[ranking.dimension]:
        table.add_column(name)
    for name in ("Packets", "Sources", "Per sensor", "Share"):
        table.add_column(name, justify="right")
    shown = [t for t in share_columns if t not in ranking.filters.tags]  # those are 100 %
    for label in shown:
        table.add_column(f"{TAG_HEADERS.get(label, label)} %", justify="right")
    explained = any("knowledge" in row for row in ranking.rows)
    if explained:
        table.add_column("Known for", overflow="fold")
    for row in ranking.rows:
        if ranking.dimension == "ports":
            if row["port"] is not None:
                key = f"{row['port']}/{row['proto']}"
            elif "icmp_type" in row:
                key = f"{row['proto']} type {row['icmp_type']}"
            else:
                key = row["proto"]
            label = row["service"] or ""
        elif ranking.dimension == "asns":
            key = "??" if row["asn"] is None else f"AS{row['asn']}"
            label = row["name"] or ("no AS data" if row["asn"] is None else "")
        else:
            key, label = row["country"] or "??", row["name"] or "unknown"
        prev = row["previous_rank"]
        table.add_row(
            str(row["rank"]),
            "-" if prev is None else str(prev),
            change_marker(row["rank"], prev),
            key,
            label,
            f"{row['packets']:,}{ATTRIBUTION_MARKS.get(row.get('attribution', ''), '')}",
            f"{row['sources']:,}",
            numbers.per_sensor(row["per_sensor"]),
            numbers.percent(row["share"]),
            *(numbers.percent(row["tag_shares"].get(label, 0.0)) for label in shown),
            *([_known_for(row.get("knowledge", []))] if explained else []),
        )
    out.print(table)
    for note in attribution_notes(ranking):
        out.print(note, highlight=False)
    total = ranking.total
    out.print(
        f"total: {total['packets']:,} packets from {total['sources']:,} sources, "
        f"{total['sensors']} sensors",
        highlight=False,
    )
    tagged = [f"{t} {numbers.percent(share)}" for t, share in ranking.tag_shares.items() if share]
    if tagged:
        out.print(f"tags: {', '.join(tagged)} of these packets", highlight=False)
