"""Filter options every query command spells the same way, checked before any query runs.

``--country`` takes a code or a name (``JP``, ``Japan``, ``日本``) and hands the command
the code; ``--sensor`` must name a sensor the store knows. An unknown value is a usage
error (exit 2) that lists what would have been accepted. The filters a command applied
are echoed in its ``--json`` answer (``"filters"``) and in its table's title
(:func:`filters_title`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from teiten.errors import OptionError

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "COUNTRY",
    "check_sensor",
    "country_option",
    "filters_title",
    "known_sensors",
    "packet_filter_options",
    "source_network_options",
]


class ReadType(click.ParamType):
    """A value read by ``read``, whose :class:`OptionError` becomes click's usage error
    (naming the option)."""

    def __init__(self, name: str, read: Callable[[str], str]) -> None:
        self.name = name
        self._read = read

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return self._read(str(value))
        except OptionError as exc:
            self.fail(str(exc), param, ctx)


def _country(text: str) -> str:
    from teiten.enrich.countries import country_code

    return country_code(text)


def _network(text: str) -> str:
    from teiten.analyze.rankings import network_text

    return network_text(text)


#: A country code or an English/Japanese name, converted to the ISO code.
COUNTRY = ReadType("country", _country)
#: A source network in CIDR (``192.0.2.0/24``), normalised (host bits dropped).
NETWORK = ReadType("prefix", _network)


def country_option(
    *names: str, help: str, default: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--country`` (or ``--focus-country``): a code or name, passed on as the ISO code."""
    return click.option(
        *(names or ("--country",)),
        type=COUNTRY,
        metavar="CC|NAME",
        default=default,
        show_default=default is not None,
        help=f"{help} A code or an English or Japanese name: JP, Japan, 日本.",
    )


def packet_filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--traffic``, ``--country``, ``--sensor``, ``--proto``, ``--tag`` (as ``tags``),
    ``--exclude-tag`` (as ``exclude_tags``), ``--asn`` (as ``asns``) and ``--prefix`` (as
    ``prefixes``): which packets a ranking or a series counts
    (:class:`teiten.analyze.rankings.Filters`)."""
    from teiten.analyze.rankings import TRAFFIC

    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        click.option(
            "--traffic",
            type=click.Choice(TRAFFIC),
            default="probe",
            show_default=True,
            help="Which packets count: probes, DoS backscatter, or all.",
        ),
        country_option(help="Only packets from this country."),
        click.option(
            "--sensor", help="Only packets seen by this sensor (a label the store holds)."
        ),
        click.option("--proto", help="Only this protocol (tcp, udp, icmp, icmpv6 or a number)."),
        click.option(
            "--tag",
            "tags",
            multiple=True,
            metavar="LABEL",
            help="Only packets carrying this fingerprint tag (mirai, zmap, masscan, research, "
            "bs-synack …); repeat for any of several.",
        ),
        click.option(
            "--exclude-tag",
            "exclude_tags",
            multiple=True,
            metavar="LABEL",
            help="Leave out packets carrying this tag (e.g. research); repeatable.",
        ),
        source_network_options,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def source_network_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--asn`` (as ``asns``) and ``--prefix`` (as ``prefixes``): only sources in these
    ASes or networks (each repeatable: any of them)."""
    from teiten.analyze.rankings import MAX_ASN

    func = click.option(
        "--prefix",
        "prefixes",
        multiple=True,
        type=NETWORK,
        metavar="CIDR",
        help="Only sources in this network, in CIDR (an IPv4 or IPv6 prefix); repeat for any "
        "of several.",
    )(func)
    return click.option(
        "--asn",
        "asns",
        multiple=True,
        type=click.IntRange(0, MAX_ASN),
        metavar="N",
        help="Only sources in this AS (its number); repeat for any of several.",
    )(func)


def known_sensors(engine: Engine) -> list[str]:
    """Sensor labels of the store: those of its batches, declared ones, and any in its rows."""
    from teiten.store import queries

    manifest = engine.store.manifest
    names = {b.sensor for b in manifest.batches(state="committed")}
    names |= {s.name for s in manifest.sensors()}
    names |= {r["sensor"] for r in engine.rows(*queries.holdings.sensor_labels())}
    return sorted(names)


def check_sensor(engine: Engine, sensor: str | None) -> None:
    """A usage error naming the known sensors unless ``sensor`` is None or one of them."""
    if sensor is None:
        return
    manifest = engine.store.manifest
    quick = {b.sensor for b in manifest.batches(state="committed")}
    if sensor in quick:  # the usual case, without reading the rows
        return
    known = known_sensors(engine)
    if sensor not in known:
        listed = ", ".join(known) if known else "none: the store holds no packets"
        raise click.BadParameter(
            f"unknown sensor {sensor!r}; the store's sensors are {listed}",
            param_hint="'--sensor'",
        )


def filters_title(filters: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    """The filters as a title's tail: `` — country JP, sensor s1, tag mirai``."""
    words = {"exclude_tags": "without tag", "tags": "tag", "asns": "AS", "prefixes": "source in"}
    parts = []
    for name, value in filters.items():
        if name in skip or value in (None, "", [], ()):
            continue
        shown = " or ".join(map(str, value)) if isinstance(value, list | tuple) else value
        parts.append(f"{words.get(name, name)} {shown}")
    return f" — {', '.join(parts)}" if parts else ""
