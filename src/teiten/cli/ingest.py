"""`teiten ingest`."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option


@main.command()
@store_option
@click.option("--sensor", default="default", show_default=True, help="Sensor label for these rows.")
@click.option(
    "--geoip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MaxMind-format .mmdb (country and/or ASN) instead of the bundled RIR data.",
)
@click.option(
    "--geoip-asn",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="An ASN .mmdb (GeoLite2-ASN, DB-IP ASN) for AS numbers --geoip lacks, instead of "
    "the store's AS edition (teiten asn import).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read, decode and tag everything and report what would be stored; write nothing.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Store packets already stored under another sensor label under this one too.",
)
@json_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@fail_cleanly
def ingest(
    store_dir: Path | None,
    sensor: str,
    geoip: Path | None,
    geoip_asn: Path | None,
    dry_run: bool,
    force: bool,
    as_json: bool,
    paths: tuple[Path, ...],
) -> None:
    """Ingest pcap/pcapng files (optionally gzip/zstd-compressed) into the store.

    An input is identified by its packets, not its bytes: the same capture
    compressed, rewritten as pcap/pcapng or with ns timestamps is a duplicate
    and adds nothing; packets shared with stored captures (rotated files that
    overlap) are stored once and counted as overlapping.

    AS numbers come from the --geoip database where it has them, else from
    --geoip-asn, else from the store's AS edition (`teiten asn import`), if any.

    Exit status: 0 when every file was ingested, 1 when any failed (the others
    are still ingested), 2 for usage errors. With --dry-run the same checks run
    and the same answer is printed, but the store is not changed (nor created).
    """
    from teiten.cli.output import ingest_progress, print_ingest
    from teiten.enrich import RirTagger
    from teiten.ingest import ingest as run_ingest
    from teiten.store import Store, default_store_path
    from teiten.store.asn import open_store_geo
    from teiten.store.research import record_tagging, tag_context

    geo = open_store_geo(default_store_path(store_dir), geoip, geoip_asn)  # before any write
    with contextlib.ExitStack() as stack:
        stack.enter_context(geo)
        if dry_run and not default_store_path(store_dir).exists():  # create no store
            store_dir = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "store"
        store = Store(store_dir)
        context = tag_context(store)  # the store's research scanner list, if any
        if context.research and context.research.has_asns and isinstance(geo, RirTagger):
            click.echo(
                "warning: the research scanner list has AS entries, but the built-in RIR data "
                "has no AS numbers; only its networks are matched (import an AS table with "
                "`teiten asn import`, or give --geoip-asn)",
                err=True,
            )
        with ingest_progress(paths, enabled=not as_json) as progress:
            report = run_ingest(
                paths,
                store,
                geo,
                sensor=sensor,
                progress=progress,
                context=context,
                dry_run=dry_run,
                force=force,
            )
        if context.research is not None and not dry_run:
            ingested = [r for r in report.results if r.packets]
            files = [r.file for r in ingested]
            record_tagging(store, context.research, files, sum(r.packets for r in ingested))
    if as_json:
        emit_json(report.as_json())
    else:
        print_ingest(report)
    raise SystemExit(0 if report.ok else 1)
