"""`teiten store ...`: inspect, verify and maintain the store."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import (
    emit_json,
    engine_option,
    fail_cleanly,
    json_option,
    main,
    store_option,
)


@main.group("store")
def store_group() -> None:
    """Inspect and maintain the store."""


@store_group.command("info")
@store_option
@json_option
@fail_cleanly
def store_info(store_dir: Path | None, as_json: bool) -> None:
    """Days, packets, sensors, inputs, and which geo database tagged the batches."""
    from teiten.store import Store
    from teiten.store.summary import summarize

    info = summarize(Store(store_dir, create=False))
    if as_json:
        emit_json(info)
        return
    click.echo(
        f"store {info['store']}: {info['packets']:,} packets over {info['days']} days "
        f"({info['first_day']} .. {info['last_day']})"
    )
    for s in info["sensors"]:
        click.echo(
            f"  sensor {s['sensor']}: {s['packets']:,} packets, "
            f"{s['first_seen']} .. {s['last_seen']}"
        )
    click.echo(
        f"  {info['inputs']} inputs ({info['inputs_with_errors']} with errors), "
        f"{info['batches']} batches"
    )
    for g in info["geo"]:
        click.echo(f"  tagged by {g['database']} ({g['edition']}): {g['batches']} batches")
    kept = info.get("retention")
    if kept is None:
        return
    click.echo("  " + _retention_text(kept["raw_retention_days"], kept["raw_since"]))
    old = kept["rolled_up_only"]
    if old and old["days"]:
        click.echo(
            f"  before {kept['raw_since']}: {old['packets']:,} packets over {old['days']} days "
            f"(from {old['first_day']}) held as rollups only (rankings, series and reports "
            "read them; events and `teiten sources` need raw packets)"
        )


def _retention_text(days: int | None, since: str | None) -> str:
    kept = (
        "raw packets: every one kept"
        if days is None
        else f"raw packets: kept for {days} days before the newest day, then dropped once rolled up"
    )
    return kept + (f"; raw packets held from {since} on" if since else "")


@store_group.command("retention")
@store_option
@click.option(
    "--days",
    type=int,
    default=None,
    metavar="N",
    help="Keep the raw packets of the N days before the newest stored day (at least 1); "
    "older days are dropped once rolled up, at the next write or `teiten store retain`.",
)
@click.option(
    "--keep-all",
    is_flag=True,
    help="Keep every raw packet from now on (the default; what was dropped stays dropped).",
)
@json_option
@fail_cleanly
def store_retention(
    store_dir: Path | None, days: int | None, keep_all: bool, as_json: bool
) -> None:
    """Show or set how long the store keeps raw packets (raw retention).

    Rankings, series, phenomena and reports read the rollups, which are kept for every
    day; scan and DoS events, `teiten sources` and a source's events need the raw
    packets. The horizon is counted back from the newest stored day (never later than
    today, UTC). Setting it drops nothing by itself: ingest, the collector and
    `simulate --store` drop after their next write, `teiten store retain` at once.
    """
    from teiten.store import Store
    from teiten.store.retention import check_days, horizon, raw_since, retain, set_retention

    if days is not None and keep_all:
        raise click.UsageError("give --days N or --keep-all, not both")
    store = Store(store_dir, create=False)
    if days is not None or keep_all:
        set_retention(store, None if keep_all else check_days(days))
    pending = retain(store, dry_run=True)
    bound, since = horizon(store), raw_since(store)
    answer: dict[str, Any] = {
        "raw_retention_days": pending.raw_retention_days,
        "raw_since": since.isoformat() if since else None,
        "horizon": bound.isoformat() if bound else None,
        "to_drop": {"days": pending.days, "packets": pending.packets},
        "warnings": pending.warnings,
    }
    if as_json:
        emit_json(answer)
        return
    text = _retention_text(pending.raw_retention_days, answer["raw_since"])
    click.echo(f"store {store.root}: {text}")
    if pending.days:
        click.echo(
            f"the raw packets of {len(pending.days)} day(s) before {bound} "
            f"({pending.packets:,} packets) go at the next write, or now with "
            "`teiten store retain`; their rollups stay"
        )
    for w in pending.warnings:
        click.echo(f"warning: {w}")


@store_group.command("retain")
@store_option
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; change nothing.")
@json_option
@fail_cleanly
def store_retain(store_dir: Path | None, dry_run: bool, as_json: bool) -> None:
    """Drop the raw packets of the days before the raw horizon now (`store retention`).

    Only days whose rollups are complete go; their rollups stay, so every ranking,
    series and report still answers. Atomic and crash-safe like `store remove`. Ingest,
    the collector and `simulate --store` do the same after each write.
    """
    from teiten.store import Store
    from teiten.store.retention import retain

    done = retain(Store(store_dir, create=False), dry_run=dry_run)
    if as_json:
        emit_json(done.as_json())
        return
    if done.raw_retention_days is None:
        click.echo(
            "the store keeps every raw packet (`teiten store retention --days N` sets a limit)"
        )
    elif not done.days:
        click.echo(f"nothing to drop; raw packets held from {done.raw_since or 'the first day'} on")
    else:
        verb = "would drop" if done.dry_run else "dropped"
        click.echo(
            f"{verb} the raw packets of {len(done.days)} day(s) ({done.packets:,} packets, "
            f"{done.files} files) before {done.raw_since}; their rollups stay"
        )
    for w in done.warnings:
        click.echo(f"warning: {w}")


@store_group.command("compact")
@store_option
@click.option(
    "--day",
    "days",
    multiple=True,
    metavar="YYYY-MM-DD",
    help="Only this UTC day (repeatable) [default: every day with enough small files].",
)
@click.option(
    "--min-files",
    default=4,
    show_default=True,
    type=click.IntRange(2),
    help="Compact a day only when it has at least this many small files.",
)
@json_option
@fail_cleanly
def store_compact(
    store_dir: Path | None, days: tuple[str, ...], min_files: int, as_json: bool
) -> None:
    """Merge each day's small Parquet files (many ingests or collector batches) into few.

    Rows are copied unchanged and each day is swapped in atomically; ingest and
    the collector wait while it runs. Queries get faster on days with many files.
    """
    from teiten.store import Store
    from teiten.store.compact import compact

    done = compact(Store(store_dir, create=False), days=days or None, min_files=min_files)
    if as_json:
        emit_json({"days": [d.as_json() for d in done]})
        return
    if not done:
        click.echo("nothing to compact")
    for d in done:
        click.echo(
            f"{d.day}: {d.files_before} files → {d.files_after}, {d.rows:,} rows, "
            f"{d.bytes_before / 1e6:,.1f} MB → {d.bytes_after / 1e6:,.1f} MB"
        )


@store_group.command("rollup")
@store_option
@engine_option
@click.option(
    "--day",
    "days",
    multiple=True,
    metavar="YYYY-MM-DD",
    help="Only this UTC day (repeatable) [default: every day].",
)
@click.option(
    "--periods",
    "periods_only",
    is_flag=True,
    help="Only sum the day rollups into those of ended months and quarters, and the "
    "digests of those and of ended ISO weeks (what compaction also does), without "
    "rereading the packets.",
)
@json_option
@fail_cleanly
def store_rollup(
    store_dir: Path | None,
    engine_name: str | None,
    days: tuple[str, ...],
    periods_only: bool,
    as_json: bool,
) -> None:
    """Rebuild the rollups (per-day counts by port, country, sensor, tags and source)
    from the stored packets, then their sums over ended months and quarters (with the
    digests of those and of ended ISO weeks), and the per-day session fragments that
    scan events and DoS attacks are merged from, and the scan events, DoS attacks and
    phenomena of ended months and quarters (those missing or stale), so their first
    report reads them.

    Ingest, the collector and `simulate --store` keep the day rollups up to date; run
    this once for a store written by an earlier teiten, whose queries read every packet
    until then. Answers are the same either way, only faster from the rollups.
    Fragments a query needs and does not find are computed by that query. With
    --engine spark, Spark reads the packets for the rollups (the files written are the
    same).
    """
    import time

    from teiten.store import Store
    from teiten.store.engine import engine_name as chosen
    from teiten.store.rollup import rebuild

    store = Store(store_dir, create=False)
    started = time.monotonic()
    if periods_only:
        done = []
    elif chosen(engine_name) == "spark":
        from teiten.store.spark import rebuild_rollups

        done = rebuild_rollups(store, days=days or None)
    else:
        done = rebuild(store, days=days or None)
    seconds = round(time.monotonic() - started, 3)
    refreshed = _refresh(store, list(days), [d.day for d in done])
    period_seconds, session_seconds = refreshed["period_seconds"], refreshed["session_seconds"]
    summed, sessions = refreshed["summed"], refreshed["sessions"]
    events, findings = refreshed["events"], refreshed["findings"]
    packets = sum(d.packets for d in done)
    rows = sum(d.rows for d in done)
    size = sum(d.bytes for d in done)
    if as_json:
        emit_json(
            {
                "days": [d.as_json() for d in done],
                "packets": packets,
                "rows": rows,
                "bytes": size,
                "seconds": seconds,
                "periods": {"summed": summed, "seconds": period_seconds},
                "sessions": {
                    "computed": {f: [d.isoformat() for d in ds] for f, ds in sessions.items()},
                    "events": events,
                    "findings": findings,
                    "seconds": session_seconds,
                },
            }
        )
        return
    if not periods_only:
        click.echo(
            f"rolled up {packets:,} packets on {len(done)} day(s) into {rows:,} rows "
            f"({size / 1e6:,.1f} MB, {size / max(packets, 1):.1f} bytes per packet) "
            f"in {seconds:.1f} s"
        )
    click.echo(
        f"summed {len(summed)} period rollup(s) (months, quarters, weeks) in {period_seconds:.1f} s"
        + (f": {', '.join(summed)}" if summed else " (all current)")
    )
    computed = max((len(ds) for ds in sessions.values()), default=0)
    click.echo(
        f"session fragments computed for {computed} day(s), {len(events)} event list(s) and "
        f"the phenomena of {len(findings)} period(s) of ended months and quarters in "
        f"{session_seconds:.1f} s"
        + (
            f": {', '.join(events + [f'phenomena {p}' for p in findings])}"
            if events or findings
            else ""
        )
    )


def _refresh(store: Any, days: list[str], rebuilt_days: list[str]) -> dict[str, Any]:
    """After the day rollups of ``rebuilt_days`` were rebuilt: the month and quarter
    rollups (of ``days``, or all that are stale), and the session fragments, events and
    phenomena of the periods those days are in."""
    import time
    from datetime import date

    from teiten.analyze.phenomena.find import prepare_findings
    from teiten.analyze.sessions import prepare_all, prepare_events
    from teiten.knowledge import load_knowledge
    from teiten.store import DuckDBEngine, period_rollups

    started = time.monotonic()
    with store.lock():
        summed = period_rollups.build(store, days=[date.fromisoformat(d) for d in days] or None)
    period_seconds = round(time.monotonic() - started, 3)
    started = time.monotonic()
    with DuckDBEngine(store) as engine:
        rebuilt = [date.fromisoformat(d) for d in rebuilt_days]
        sessions = prepare_all(engine, rebuilt)
        events = prepare_events(engine, rebuilt)
        labels = [p.label for p in period_rollups.periods_of(rebuilt)]
        findings = prepare_findings(engine, labels, load_knowledge(store=store.root))
    return {
        "summed": summed,
        "period_seconds": period_seconds,
        "sessions": sessions,
        "events": events,
        "findings": findings,
        "session_seconds": round(time.monotonic() - started, 3),
    }


@store_group.command("retag")
@store_option
@click.option("--asn", is_flag=True, help="Set AS numbers from the current AS edition.")
@click.option("--research", is_flag=True, help="Set the research tag from the stored list.")
@click.option(
    "--day", "days", multiple=True, metavar="YYYY-MM-DD", help="Only this day; repeatable."
)
@json_option
@fail_cleanly
def store_retag(
    store_dir: Path | None, asn: bool, research: bool, days: tuple[str, ...], as_json: bool
) -> None:
    """Tag stored days anew: AS numbers from the store's current AS edition (`teiten asn
    import`), the research tag from its research scanner list (`teiten scanners
    import`). Only those columns change, so every count stays the same; each day is
    swapped in atomically, then its rollups, and the months, quarters, events and
    phenomena summed from them, are brought up to date."""
    from teiten.store import Store
    from teiten.store.retag import retag

    store = Store(store_dir, create=False)
    done = retag(store, asn=asn, research=research, days=days or None)
    changed = [d.day for d in done]
    refreshed = _refresh(store, changed, changed) if changed else None
    if as_json:
        emit_json(
            {
                "days": [d.as_json() for d in done],
                "asn_changed": sum(d.asn_changed for d in done),
                "research_changed": sum(d.research_changed for d in done),
                "refreshed": refreshed
                and {
                    "periods": refreshed["summed"],
                    "events": refreshed["events"],
                    "findings": refreshed["findings"],
                },
            }
        )
        return
    click.echo(
        f"retagged {len(done)} day(s): AS number changed on "
        f"{sum(d.asn_changed for d in done):,} rows, research tag on "
        f"{sum(d.research_changed for d in done):,} rows" + ("" if done else " (nothing to change)")
    )


@store_group.command("check")
@store_option
@json_option
@fail_cleanly
def store_check(store_dir: Path | None, as_json: bool) -> None:
    """Verify every Parquet file against the manifest: readable, digest, schema, rows.

    Lists each problem with the file, the inputs whose rows it holds and what to
    do. Exit status 1 when anything is wrong, 0 when the store is consistent.
    Reads only; a large store takes as long as reading it once.
    """
    from teiten.store import Store
    from teiten.store.check import check

    report = check(Store(store_dir, create=False))
    if as_json:
        emit_json(report.as_json())
    else:
        click.echo(
            f"store {report.store}: {report.files:,} files, {report.rows:,} rows, "
            f"{report.batches:,} batches, {report.inputs:,} inputs; "
            f"{report.verified_digests:,} digests verified, "
            f"{report.unrecorded_files:,} files without a recorded digest (decoded instead); "
            + (
                "rollups complete"
                if report.rollups == "complete"
                else "no complete rollups: queries read every packet "
                "(`teiten store rollup` builds them)"
            )
        )
        for p in report.problems:
            where = f"{p.file}: " if p.file else ""
            inputs = f" [inputs: {', '.join(p.inputs)}]" if p.inputs else ""
            click.echo(f"  {p.kind}: {where}{p.detail}{inputs}\n    fix: {p.fix}")
        click.echo(
            "consistent: every file matches the manifest"
            if report.ok
            else f"{len(report.problems)} problem(s)"
        )
    raise SystemExit(0 if report.ok else 1)


@store_group.command("migrate")
@store_option
@json_option
@fail_cleanly
def store_migrate(store_dir: Path | None, as_json: bool) -> None:
    """Upgrade a store written by an older teiten to the current store schema.

    Rewrites every packet file of an older schema (schema 3 keeps timestamps in
    microseconds plus a column of the nanoseconds past them, so that Apache Spark
    reads them); every packet and column is kept. Each day is swapped in atomically,
    as compaction does; an interrupted run is finished by the next. Ingest and the
    collector wait while it runs. On a current store it does nothing.
    """
    from teiten.store.migrate import migrate

    done = migrate(store_dir)
    if as_json:
        emit_json(done.as_json())
    elif not done.migrated_files:
        click.echo(f"store {done.store} is at store schema {done.to_version}: nothing to migrate")
    else:
        click.echo(
            f"store {done.store}: {done.migrated_files:,} files ({done.packets:,} packets) "
            f"migrated from store schema {done.from_version} to {done.to_version}"
        )


def _days(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    first, _, last = value.partition("..")
    try:
        return date.fromisoformat(first), date.fromisoformat(last or first)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give YYYY-MM-DD..YYYY-MM-DD (UTC days, inclusive) or one YYYY-MM-DD"
        ) from None


@store_group.command("remove")
@store_option
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME_OR_DIGEST",
    help="An ingested input: the name it was ingested as, its file name, or its digest "
    "(repeatable).",
)
@click.option(
    "--sensor",
    default=None,
    help="Every row of this sensor label; with --input, only that sensor's copy of the input.",
)
@click.option(
    "--days",
    default=None,
    metavar="FROM..TO",
    callback=_days,
    help="Every row of these UTC days (inclusive; or one day YYYY-MM-DD).",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@json_option
@fail_cleanly
def store_remove(
    store_dir: Path | None,
    inputs: tuple[str, ...],
    sensor: str | None,
    days: tuple[date, date] | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
) -> None:
    """Remove ingested inputs, a sensor or days: their rows and their manifest entries.

    Atomic and crash-safe like compaction: the store shows everything before or
    everything after. A removed input can be ingested again. Without --yes it asks
    first (and refuses when there is no terminal to ask on).
    """
    from teiten.store import Store
    from teiten.store.remove import remove

    store = Store(store_dir, create=False)
    if not dry_run and not yes:
        preview = remove(store, inputs=inputs, sensor=sensor, days=days, dry_run=True)
        if not sys.stdin.isatty():
            raise click.UsageError("pass --yes to remove without being asked (or --dry-run)")
        click.echo(_removal_text(preview.as_json()))
        click.confirm("remove these rows?", abort=True)
    done = remove(store, inputs=inputs, sensor=sensor, days=days, dry_run=dry_run)
    if as_json:
        emit_json(done.as_json())
    else:
        click.echo(_removal_text(done.as_json()))


def _removal_text(r: dict[str, Any]) -> str:
    verb = "would remove" if r["dry_run"] else "removed"
    names = ", ".join(i["name"] for i in r["inputs"][:5]) + (" …" if len(r["inputs"]) > 5 else "")
    lines = [
        f"{verb} {r['packets']:,} packets on {len(r['days'])} day(s) "
        f"({r['files_removed']} files removed, {r['files_rewritten']} rewritten); "
        f"{len(r['inputs'])} input(s) gone from the manifest"
        + (f" ({names}), they can be ingested again" if names else "")
    ]
    lines += [f"warning: {w}" for w in r["warnings"]]
    return "\n".join(lines)
