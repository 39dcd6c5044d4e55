"""`teiten store ...`: inspect the store."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option


@main.group("store")
def store_group() -> None:
    """Inspect the store."""


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
