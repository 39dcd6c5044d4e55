"""`teiten scanners import|list`: the store's list of research scanner networks."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option


@main.group("scanners")
def scanners_group() -> None:
    """Research / benign scanner networks: packets from them are tagged `research`."""


@scanners_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@store_option
@json_option
@fail_cleanly
def scanners_import(file: Path, store_dir: Path | None, as_json: bool) -> None:
    """Make FILE the store's list of research scanner networks.

    One entry per line: an IPv4/IPv6 network in CIDR notation or AS<number>,
    optionally followed by a name; `#` starts a comment. A bad line changes
    nothing and is reported with its line number. Later `teiten ingest` runs tag
    packets from these sources `research`; packets already stored keep their tags.
    """
    from teiten.store import Store
    from teiten.store.research import import_research_networks

    record = import_research_networks(Store(store_dir), file)
    if as_json:
        emit_json(record)
        return
    click.echo(
        f"{file}: {record['entries']} entries ({record['ipv4']} IPv4, {record['ipv6']} IPv6 "
        f"networks, {record['asn']} AS numbers), {record['digest'][:19]}…, imported"
    )
    if record["asn"]:
        click.echo(
            "  AS entries match only when ingest knows AS numbers: import an AS table "
            "(`teiten asn import`) or give an ASN .mmdb (--geoip, --geoip-asn)"
        )


@scanners_group.command("list")
@store_option
@json_option
@fail_cleanly
def scanners_list(store_dir: Path | None, as_json: bool) -> None:
    """The stored list, when it was imported, and which ingests it tagged."""
    from teiten.store import Store
    from teiten.store.research import research_status

    status = research_status(Store(store_dir, create=False))
    if as_json:
        emit_json(status)
        return
    current = status["current"]
    if status["list"] is None:
        click.echo("no research scanner list in this store; add one with `teiten scanners import`")
        return
    when = f", imported {current['imported_at']} from {current['source']}" if current else ""
    click.echo(f"{status['list']}: {len(status['entries'])} entries, {status['digest']}{when}")
    for entry in status["entries"]:
        click.echo(f"  {entry['value']:<43} {entry['name']}".rstrip())
    tagged = [t for t in status["tagged"] if t["digest"] == status["digest"]]
    packets = sum(t["packets"] for t in tagged)
    click.echo(f"tagged {len(tagged)} ingests with this version ({packets:,} packets)")
    if status["previous"]:
        click.echo(f"{len(status['previous'])} earlier versions (see --json)")
