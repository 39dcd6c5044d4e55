"""`teiten sensors declare|list|add|registered|revoke`: sensor sizes and collector access.

`declare`/`list` keep each sensor's size (address counts); `add`/`registered`/`revoke`
manage the collector's registry of sensors allowed to upload (token, prefixes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option
from teiten.cli.tables import emit_csv, output_options

# Columns of `teiten sensors list` rows (the CSV header of a store with no sensors).
SENSOR_COLUMNS = (
    "sensor", "ipv4_addresses", "ipv6_prefixes", "declared_at", "declared", "has_packets",
)  # fmt: skip


@main.group("sensors")
def sensors_group() -> None:
    """Sensors: their sizes (which rate estimates scale by) and collector registrations."""


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "sensor": record.name,
        "ipv4_addresses": record.ipv4_addresses,
        "ipv6_prefixes": record.ipv6_prefixes,
        "declared_at": datetime.fromtimestamp(record.declared_at, UTC).isoformat(
            timespec="seconds"
        ),
    }


@sensors_group.command("declare")
@store_option
@click.argument("name")
@click.option(
    "--addresses",
    type=click.IntRange(1, 1 << 32),
    help="Number of IPv4 addresses the sensor monitors.",
)
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    metavar="CIDR",
    help="A monitored prefix (repeatable, IPv4 or IPv6). Only the address count is "
    "stored, never the prefix.",
)
@json_option
@fail_cleanly
def sensors_declare(
    store_dir: Path | None,
    name: str,
    addresses: int | None,
    prefixes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Declare sensor NAME's size (replaces an earlier declaration).

    NAME is the --sensor label its captures are ingested with. Until a sensor is
    declared, rates use the number of distinct destinations it saw in the period.
    """
    from teiten.store import Store
    from teiten.store.sensors import declare_sensor

    record = declare_sensor(Store(store_dir), name, addresses=addresses, prefixes=prefixes)
    if as_json:
        emit_json(_record_json(record))
        return
    click.echo(
        f"sensor {record.name}: {record.ipv4_addresses:,} IPv4 addresses"
        + (f", {record.ipv6_prefixes} IPv6 prefixes" if record.ipv6_prefixes else "")
        + " declared"
    )


@sensors_group.command("list")
@store_option
@output_options
@fail_cleanly
def sensors_list(store_dir: Path | None, output: str) -> None:
    """Declared sensors, and sensors with packets but no declaration."""
    from teiten.store import Store, open_engine, queries
    from teiten.store.sensors import declared_sensors

    store = Store(store_dir, create=False)
    declared = declared_sensors(store)
    with open_engine(store) as engine:
        seen = {r["sensor"] for r in engine.rows(*queries.holdings.sensor_labels())}
    rows = []
    for name in sorted(set(declared) | seen):
        if name in declared:
            rows.append(
                {**_record_json(declared[name]), "declared": True, "has_packets": name in seen}
            )
        else:
            rows.append(
                {
                    "sensor": name,
                    "ipv4_addresses": None,
                    "ipv6_prefixes": None,
                    "declared_at": None,
                    "declared": False,
                    "has_packets": True,
                }
            )
    if output == "json":
        emit_json({"sensors": rows})
        return
    if output == "csv":
        emit_csv(rows, SENSOR_COLUMNS)
        return
    if not rows:
        click.echo("no sensors declared and no packets in the store")
    for r in rows:
        if r["declared"]:
            click.echo(
                f"{r['sensor']}: {r['ipv4_addresses']:,} IPv4 addresses"
                + (f", {r['ipv6_prefixes']} IPv6 prefixes" if r["ipv6_prefixes"] else "")
                + f" (declared {r['declared_at']})"
                + ("" if r["has_packets"] else "; no packets yet")
            )
        else:
            click.echo(
                f"{r['sensor']}: not declared; rates use the destinations it observed "
                f"(teiten sensors declare {r['sensor']} --addresses N)"
            )


@sensors_group.command("add")
@store_option
@click.argument("name")
@click.option(
    "--prefix",
    "prefixes",
    multiple=True,
    required=True,
    metavar="CIDR",
    help="A prefix the sensor monitors (repeatable, IPv4 or IPv6); uploads with destinations "
    "outside them are refused.",
)
@click.option("--replace", is_flag=True, help="Issue a new token (the old one stops working).")
@json_option
@fail_cleanly
def sensors_add(
    store_dir: Path | None, name: str, prefixes: tuple[str, ...], replace: bool, as_json: bool
) -> None:
    """Register sensor NAME with the collector and print its token (shown only once).

    Only a hash of the token is kept, with the prefixes, in
    <store>/collector/registry.sqlite (mode 0600). The sensor's size is declared
    too (as with `teiten sensors declare`), so rate estimates work.
    """
    from teiten.collector import Registry
    from teiten.store import Store

    store = Store(store_dir)
    registry = Registry(store.root)
    try:
        token = registry.add(store, name, list(prefixes), replace=replace)
    finally:
        registry.close()
    if as_json:
        emit_json({"sensor": name, "token": token})
        return
    click.echo(
        f"sensor {name} registered; its token (shown only this once, put it in sensor.toml):"
    )
    click.echo(token)


@sensors_group.command("registered")
@store_option
@click.option("--show-prefixes", is_flag=True, help="Also print the prefixes (secret).")
@json_option
@fail_cleanly
def sensors_registered(store_dir: Path | None, show_prefixes: bool, as_json: bool) -> None:
    """Sensors registered with the collector: labels and prefix counts."""
    from teiten.collector import Registry
    from teiten.store import Store

    store = Store(store_dir, create=False)
    registry = Registry(store.root)
    try:
        sensors = registry.sensors()
    finally:
        registry.close()
    rows = []
    for s in sensors:
        row: dict[str, Any] = {
            "sensor": s.name,
            **s.counts(),
            "token_issued_at": datetime.fromtimestamp(s.issued_at, UTC).isoformat(
                timespec="seconds"
            ),
        }
        if show_prefixes:
            row["prefixes"] = list(s.prefixes)
        rows.append(row)
    if as_json:
        emit_json({"sensors": rows})
        return
    if not rows:
        click.echo("no sensors registered (teiten sensors add NAME --prefix CIDR)")
    for r in rows:
        line = (
            f"{r['sensor']}: {r['ipv4_prefixes']} IPv4 and {r['ipv6_prefixes']} IPv6 prefixes, "
            f"token issued {r['token_issued_at']}"
        )
        if show_prefixes:
            line += ": " + " ".join(r["prefixes"])
        click.echo(line)


@sensors_group.command("revoke")
@store_option
@click.argument("name")
@fail_cleanly
def sensors_revoke(store_dir: Path | None, name: str) -> None:
    """Remove sensor NAME from the collector's registry (its token stops working at once).

    Its stored packets and its declared size stay.
    """
    from teiten.collector import Registry
    from teiten.errors import OptionError
    from teiten.store import Store

    registry = Registry(Store(store_dir, create=False).root)
    try:
        if not registry.revoke(name):
            raise OptionError(f"sensor {name} is not registered (see teiten sensors registered)")
    finally:
        registry.close()
    click.echo(f"sensor {name} revoked; its uploads are refused from now on")
