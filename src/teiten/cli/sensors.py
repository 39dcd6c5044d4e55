"""`teiten sensors declare|list`: how many addresses each sensor monitors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main, store_option


@main.group("sensors")
def sensors_group() -> None:
    """Declare the sensors' sizes (the darknet's size, which rate estimates scale by)."""


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
@json_option
@fail_cleanly
def sensors_list(store_dir: Path | None, as_json: bool) -> None:
    """Declared sensors, and sensors with packets but no declaration."""
    from teiten.store import Engine, Store
    from teiten.store.sensors import declared_sensors

    store = Store(store_dir, create=False)
    declared = declared_sensors(store)
    with Engine(store) as engine:
        seen = {r["sensor"] for r in engine.rows("SELECT DISTINCT sensor FROM packets")}
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
    if as_json:
        emit_json({"sensors": rows})
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
