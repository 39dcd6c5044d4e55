"""`teiten knowledge import`: link a downloaded vulnerability feed's CVEs to ports."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option


@main.group("knowledge")
def knowledge_group() -> None:
    """The port knowledge base (services, products, malware, CVEs)."""


@knowledge_group.command("import")
@click.argument("feed", type=click.Path(dir_okay=False, path_type=Path))
@store_option
@json_option
@fail_cleanly
def knowledge_import(feed: Path, store_dir: Path | None, as_json: bool) -> None:
    """Link the CVEs of FEED to ports and keep the links in the store.

    FEED is a CISA KEV catalog (known_exploited_vulnerabilities.json) or an NVD CVE
    API 2.0 JSON file you downloaded; nothing is fetched. CVEs are linked through the
    vendor/product names each port's products list. Importing the same file again
    replaces its links; a malformed file changes nothing.
    """
    from teiten.knowledge import import_feed

    report = import_feed(feed, store_dir)
    if as_json:
        emit_json(report.as_json())
        return
    version = f" {report.feed_version}" if report.feed_version else ""
    date = f" of {report.feed_date}" if report.feed_date else ""
    click.echo(
        f"{report.feed}: {report.source} feed{version}{date}, {report.entries:,} entries, "
        f"{len(report.links):,} CVE links to {len(report.ports())} ports"
    )
    if report.ports():
        click.echo(f"  ports: {', '.join(report.ports())}")
    verb = "replaced" if report.replaced else "stored in"
    click.echo(f"  {verb} {report.stored}")
