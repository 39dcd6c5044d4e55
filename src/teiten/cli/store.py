"""`teiten store ...`: inspect the store."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option


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
