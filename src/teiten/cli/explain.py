"""`teiten explain PORT[/PROTO]`: what is known about a port."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option
from teiten.errors import OptionError

_SPEC = re.compile(r"^(\d{1,5})(?:/([A-Za-z]+))?$")
_WIDTH = 96


def parse_port(spec: str) -> tuple[str, int]:
    """``"37215/tcp"`` → ("tcp", 37215); a bare port is TCP."""
    found = _SPEC.match(spec.strip())
    proto = (found[2] or "tcp").lower() if found else ""
    if not found or int(found[1]) > 0xFFFF or proto not in ("tcp", "udp"):
        raise OptionError(
            f"{spec!r} is not a port: give PORT or PORT/PROTO with PORT 0-65535 and PROTO "
            "tcp or udp, e.g. 23, 37215/tcp, 53/udp"
        )
    return proto, int(found[1])


def explain_port(
    proto: str, port: int, store: Path | None = None, as_of: date | None = None
) -> dict[str, Any]:
    """The JSON document ``teiten explain --json`` prints; with ``as_of``, only what was
    known on that day."""
    from teiten.enrich.services import port_registry
    from teiten.knowledge import load_knowledge

    kb = load_knowledge(store=store if store is not None else _default_store())
    entry = kb.for_port(proto, port, as_of=as_of)
    iana = port_registry()
    doc: dict[str, Any] = {
        "proto": proto,
        "port": port,
        "known": entry is not None,
        "service": entry.service if entry else iana.name(proto, port),
        "registered": iana.name(proto, port),
        "knowledge_base": kb.describe(),
        "port_registry": iana.describe(),
        "as_of": as_of.isoformat() if as_of else None,
        "items": entry.items() if entry else [],
    }
    if entry:
        details = entry.as_json()
        del details["proto"], details["port"], details["service"]
        doc.update(details)
    return doc


def _default_store() -> Path | None:
    """$TEITEN_STORE or ./teiten-data when it exists: its imports are merged."""
    from teiten.store.dataset import default_store_path

    root = default_store_path()
    return root if root.is_dir() else None


@main.command()
@click.argument("port_spec", metavar="PORT[/PROTO]")
@click.option(
    "--period",
    help="Only what was known on the period's last day (CVEs published, malware reported "
    "by then), as a report of the period cites it: e.g. 2019Q2, 2019-06-30.",
)
@store_option
@json_option
@fail_cleanly
def explain(port_spec: str, period: str | None, store_dir: Path | None, as_json: bool) -> None:
    """What is known about a port: service, products, malware, CVEs, references.

    PORT[/PROTO] is e.g. 37215/tcp, 23 (TCP) or 53/udp. CVEs imported into the store
    with `teiten knowledge import` are included.
    """
    from teiten.analyze.periods import parse_period

    proto, port = parse_port(port_spec)
    as_of = parse_period(period).last_day if period else None
    doc = explain_port(proto, port, store_dir, as_of)
    if as_json:
        emit_json(doc)
    else:
        _print(doc)


def _print(doc: dict[str, Any]) -> None:
    kb = doc["knowledge_base"]
    label = f"{doc['port']}/{doc['proto']}"
    edition = f"knowledge base edition {kb['edition']}"
    if doc["as_of"]:
        edition += f", as known on {doc['as_of']}"
    if not doc["known"]:
        registry = f"IANA's port registry (edition {doc['port_registry']['edition']})"
        name = doc["registered"]
        said = f"{name} in {registry}" if name else f"no name in {registry}"
        click.echo(f"{label}: {said}.")
        click.echo(f"Nothing more is known about this port in the {edition}.")
        return
    head = f"{label}  {doc['service']}"
    if doc["registered"] and doc["registered"] != doc["service"]:
        head += f"  (IANA: {doc['registered']})"
    click.echo(head)
    click.echo(f"{edition}")
    click.echo()
    _wrap(doc["summary"])
    if doc["notes"]:
        _wrap(doc["notes"])
    if doc["products"]:
        click.echo("\nProducts:")
        for p in doc["products"]:
            _wrap(p["name"], "  - ", "    ")
    if doc["malware"]:
        click.echo("\nMalware:")
        for m in doc["malware"]:
            name = m["name"] + (f" ({', '.join(m['aliases'])})" if m["aliases"] else "")
            _wrap(f"{name}: {m['notes']}" if m["notes"] else name, "  - ", "    ")
            for url in m["sources"]:
                click.echo(f"      {url}")
    if doc["cves"]:
        click.echo("\nCVEs:")
        for c in doc["cves"]:
            published = c["published"] or "(no NVD date)"
            origin = "" if c["origin"] == "curated" else f" [from {c['origin']}]"
            _wrap(f"{c['id']}  {published}  {c['title']}{origin}", "  - ", "    ")
            for url in c["sources"]:
                click.echo(f"      {url}")
    click.echo("\nReferences:")
    for url in doc["references"]:
        click.echo(f"  - {url}")
    for feed in kb["imports"]:
        click.echo(
            f"\n(includes CVEs linked from {feed['source']} {feed['feed']}, "
            f"version {feed['feed_version']}, {feed['feed_date']})"
        )


def _wrap(text: str, first: str = "", rest: str = "") -> None:
    click.echo(textwrap.fill(text, _WIDTH, initial_indent=first, subsequent_indent=rest or first))
