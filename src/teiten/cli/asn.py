"""`teiten asn import|list|use|lookup`: the store's AS tables from dated offline data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option

_FORMATS = ("iptoasn", "prefix2as", "mmdb")  # teiten.enrich.asn.FORMATS, without importing it


@main.group("asn")
def asn_group() -> None:
    """AS numbers of sources, from dated offline data (iptoasn, CAIDA prefix2as, ASN .mmdb)."""


@asn_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@store_option
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The edition's date, YYYY-MM-DD [default: the data's own (an mmdb's build time, a "
    "prefix2as file's name), else the file's modification time].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    help="The file's format [default: recognised from its content].",
)
@json_option
@fail_cleanly
def asn_import(
    file: Path, store_dir: Path | None, on: datetime | None, fmt: str | None, as_json: bool
) -> None:
    """Convert FILE into an AS table of the store, the one in use from now on.

    FILE: an iptoasn TSV, a CAIDA prefix2as file or an ASN .mmdb, gzip or plain.
    Later `teiten ingest` runs (and the collector, once restarted) tag each source
    with its AS number from it, unless an AS database is given (--geoip-asn,
    geoip_asn), which wins. Importing the same file again adds nothing. A line that
    does not parse changes nothing and is reported with its line number.
    """
    from teiten.store import Store
    from teiten.store.asn import import_asn_file

    record, added = import_asn_file(Store(store_dir), file, fmt=fmt, on=on.date() if on else None)
    if as_json:
        emit_json({**record, "added": added})
        return
    if not added:
        click.echo(
            f"{file}: already imported as {record['edition']} (same {record['digest'][:19]}…); "
            "nothing added"
        )
        return
    for line in _describe(record):
        click.echo(line)
    click.echo(f"imported as {record['edition']}, now the store's AS edition")


def _describe(record: dict[str, Any]) -> list[str]:
    """What an import read, decided and left out, for people."""
    counts = record["input"]
    lines = [
        f"{record['file']}: {record['format']}, dated {record['date']} ({record['date_from']}), "
        f"{record['digest'][:19]}…",
        f"  {record['ranges']['ipv4']:,} IPv4 and {record['ranges']['ipv6']:,} IPv6 ranges, "
        f"{record['ases']:,} ASes ({record['names']:,} named), from {counts['rows']:,} "
        f"{'networks' if record['format'] == 'mmdb' else 'lines'}",
    ]
    notes = {
        "not_routed": "not routed (AS 0), left out",
        "no_asn": "networks without an AS number, left out",
        "ipv4_aliases": "IPv6 aliases of the IPv4 tree, left out",
        "multi_origin": "prefixes with several origins: the first listed AS taken",
        "as_set": "prefixes with an AS set: its first AS taken",
        "overlapping": "overlapping ranges: the most specific one wins",
    }
    lines += [f"  {counts[k]:,} {text}" for k, text in notes.items() if counts.get(k)]
    return lines


@asn_group.command("list")
@store_option
@json_option
@fail_cleanly
def asn_list(store_dir: Path | None, as_json: bool) -> None:
    """The AS editions imported into the store; `*` marks the one in use."""
    from teiten.store import Store
    from teiten.store.asn import asn_editions

    data = asn_editions(Store(store_dir, create=False).root)
    if as_json:
        emit_json(data)
        return
    if not data["editions"]:
        click.echo("no AS edition in this store; import one with `teiten asn import FILE`")
        return
    for r in data["editions"]:
        mark = "*" if r["edition"] == data["current"] else " "
        click.echo(
            f"{mark} {r['edition']}  {r['ranges']['ipv4']:,} IPv4 / {r['ranges']['ipv6']:,} "
            f"IPv6 ranges, {r['ases']:,} ASes  from {r['file']}, imported {r['imported_at']}"
        )


@asn_group.command("use")
@click.argument("edition")
@store_option
@fail_cleanly
def asn_use(edition: str, store_dir: Path | None) -> None:
    """Make EDITION (see `teiten asn list`) the one ingest tags with."""
    from teiten.store import Store
    from teiten.store.asn import use_asn_edition

    record = use_asn_edition(Store(store_dir, create=False), edition)
    click.echo(f"{record['edition']} ({record['file']}) is now the store's AS edition")


@asn_group.command("lookup")
@click.argument("addresses", nargs=-1, required=True)
@store_option
@click.option("--edition", help="An imported edition [default: the one in use].")
@json_option
@fail_cleanly
def asn_lookup(
    addresses: tuple[str, ...], store_dir: Path | None, edition: str | None, as_json: bool
) -> None:
    """Each address's AS number, holder, and the range of the table it fell in."""
    from teiten.errors import StoreError
    from teiten.store import Store
    from teiten.store.asn import load_asn_table

    root = Store(store_dir, create=False).root
    table = load_asn_table(root, edition)
    if table is None:
        raise StoreError(
            f"{root}: no AS edition in this store; import one with `teiten asn import`"
        )
    answers = [{**a, "edition": table.edition} for a in table.answers(list(addresses))]
    if as_json:
        emit_json(answers)
        return
    for a in answers:
        if a["asn"] is None:
            click.echo(f"{a['address']}  -  (in no range of {a['edition']})")
            continue
        first, last = a["range"]
        click.echo(f"{a['address']}  AS{a['asn']}  {a['name'] or '-'}  [{first} - {last}]")
