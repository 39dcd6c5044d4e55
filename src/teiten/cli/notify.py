"""`teiten notify build|send|check`: infected-host feeds for network owners (docs/notify.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from teiten.cli.common import (
    emit_json,
    engine_option,
    fail_cleanly,
    json_option,
    main,
    period_option,
    store_option,
)

if TYPE_CHECKING:
    from teiten.notify import BuildReport, Outcome

_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("notify.toml"),
    show_default=True,
    help="The recipients file (see docs/notify.md and docs/examples/notify.toml).",
)


@main.group("notify")
def notify_group() -> None:
    """Infected-host feeds for network owners: build a period's feeds, send each once."""


@notify_group.command("build")
@store_option
@engine_option
@period_option
@_CONFIG
@json_option
@fail_cleanly
def notify_build(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    config_path: Path,
    as_json: bool,
) -> None:
    """Write each recipient's feed of a period (JSON and CSV) into <store>/notify/feeds.

    Statuses compare with the recipient's previous feed (the latest period built before
    this one); building a period again gives the same feed, and leaves it as it is.
    """
    from teiten.analyze.periods import parse_period
    from teiten.notify import build_feeds, load_config
    from teiten.store import Store

    config, parsed = load_config(config_path), parse_period(period)
    store = Store(store_dir, create=False)
    report = build_feeds(store, config, parsed, engine_name=engine_name)
    if as_json:
        emit_json(report.as_json())
    else:
        _print_build(report)


@notify_group.command("send")
@store_option
@_CONFIG
@click.option("--dry-run", is_flag=True, help="Show what would be sent; send and record nothing.")
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Send again the feeds an interrupted attempt may have delivered, also for "
    'recipients with on_uncertain = "hold" (same Message-ID / Idempotency-Key).',
)
@json_option
@fail_cleanly
def notify_send(
    store_dir: Path | None,
    config_path: Path,
    dry_run: bool,
    resend_uncertain: bool,
    as_json: bool,
) -> None:
    """Deliver every built feed not delivered yet, each once (exit 1 if one was not).

    The sent-log (<store>/notify/sent.sqlite) records each step, so a run cut short
    (a crash, kill -9) is finished by running it again: nothing is sent twice, unless
    an attempt was cut off after the receiver may have taken it (docs/notify.md).
    """
    from teiten.notify import load_config, send_feeds
    from teiten.store import Store

    config = load_config(config_path)
    store = Store(store_dir, create=False)
    outcomes = send_feeds(store, config, dry_run=dry_run, resend_uncertain=resend_uncertain)
    if as_json:
        emit_json([o.as_json() for o in outcomes])
    else:
        _print_send(outcomes)
    missed = [o for o in outcomes if o.action in ("failed", "held")]
    if missed and not dry_run:
        names = ", ".join(f"{o.recipient} {o.period}" for o in missed)
        raise click.ClickException(
            f"{len(missed)} feeds not delivered ({names}); `teiten notify send` again retries "
            "them (held ones need --resend-uncertain)"
        )


@notify_group.command("check")
@_CONFIG
@json_option
@fail_cleanly
def notify_check(config_path: Path, as_json: bool) -> None:
    """Validate the recipients file and print what it says (exit 1 if invalid)."""
    from teiten.notify import load_config

    settings = load_config(config_path).as_json()
    if as_json:
        emit_json(settings)
        return
    click.echo(f"{settings['path']}: {len(settings['recipients'])} recipients, {settings['tlp']}")
    for r in settings["recipients"]:
        networks = [*(f"AS{a}" for a in r["asns"]), *r["prefixes"], *r["countries"]]
        click.echo(
            f"  {r['name']}: {', '.join(r['findings'])} about {', '.join(networks)} "
            f"-> {r['delivery']['to']}"
        )


def _print_build(report: BuildReport) -> None:
    from rich.table import Table

    from teiten.cli.output import out

    p = report.period
    table = Table(title=f"Feeds, {p.label} ({p.start} – {p.last_day})", title_justify="left")
    for name in ("Recipient", "New", "Ongoing", "Gone", "Previous", "Changed", "File"):
        table.add_column(name, justify="right" if name in ("New", "Ongoing", "Gone") else "left")
    for f in report.feeds:
        c = f.counts
        table.add_row(
            f.recipient,
            f"{c['new']:,}",
            f"{c['ongoing']:,}",
            f"{c['gone']:,}",
            f.previous_period or "—",
            "yes" if f.changed else "no (same digest)",
            str(f.path),
        )
    out.print(table)
    line = f"{report.findings:,} findings in {report.seconds:.1f} s"
    if report.withheld_sensor_sources:
        line += f"; {report.withheld_sensor_sources:,} sources withheld (sensor addresses)"
    out.print(line, highlight=False)


def _print_send(outcomes: list[Outcome]) -> None:
    from teiten.cli.output import out
    from teiten.notify.send import ACTIONS

    if not outcomes:
        out.print("no feeds built for these recipients (teiten notify build)", highlight=False)
    for o in outcomes:
        line = f"{o.recipient} {o.period} ({o.rows:,} rows) by {o.transport}: {ACTIONS[o.action]}"
        if o.action in ("sent", "failed", "held") and o.detail:
            line += f" — {o.detail}"
        out.print(line, highlight=False, soft_wrap=True)
