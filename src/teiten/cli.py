"""The ``teiten`` command: a thin layer over the library.

Library errors (:class:`teiten.errors.TeitenError`) become one-line messages
and exit status 1; usage errors exit 2 (click's convention).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from teiten.errors import OptionError, PeriodError, TeitenError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into ClickExceptions at the edge."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PeriodError as exc:
            raise click.BadParameter(str(exc), param_hint="'--period'") from exc
        except OptionError as exc:
            raise click.UsageError(str(exc)) from exc
        except TeitenError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--store",
        "store_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Store directory [default: $TEITEN_STORE or ./teiten-data].",
    )(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="teiten")
def main() -> None:
    """teiten (定点): Internet fixed-point observation of darknet traffic.

    Ingest packet captures from darknet sensors into a day-partitioned Parquet
    store, then rank what arrived by destination port and source country.
    """


@main.command()
@store_option
@click.option("--sensor", default="default", show_default=True, help="Sensor label for these rows.")
@click.option(
    "--geoip",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="MaxMind-format .mmdb (country and/or ASN) instead of the bundled RIR data.",
)
@json_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_fail_cleanly
def ingest(
    store_dir: Path | None, sensor: str, geoip: Path | None, as_json: bool, paths: tuple[Path, ...]
) -> None:
    """Ingest pcap/pcapng files (optionally gzip/zstd-compressed) into the store.

    Exit status: 0 when every file was ingested, 1 when any failed (the others
    are still ingested), 2 for usage errors.
    """
    from teiten.cli_output import ingest_progress, print_ingest
    from teiten.enrich import open_geo
    from teiten.ingest import ingest as run_ingest
    from teiten.store import Store

    store = Store(store_dir)
    geo = open_geo(str(geoip) if geoip else None)
    with ingest_progress(paths, enabled=not as_json) as progress:
        report = run_ingest(paths, store, geo, sensor=sensor, progress=progress)
    if as_json:
        emit_json(report.as_json())
    else:
        print_ingest(report)
    sys.exit(0 if report.ok else 1)


def ranking_options(func: Callable[..., Any]) -> Callable[..., Any]:
    from teiten.analyze.periods import HELP
    from teiten.analyze.rankings import METRICS, TRAFFIC

    options = [
        store_option,
        click.option("--period", required=True, help=f"Period: {HELP}."),
        click.option("--limit", default=10, show_default=True, type=click.IntRange(1)),
        click.option("--metric", type=click.Choice(METRICS), default="packets", show_default=True),
        click.option(
            "--traffic",
            type=click.Choice(TRAFFIC),
            default="probe",
            show_default=True,
            help="Which packets count: probes, DoS backscatter, or all.",
        ),
        click.option("--country", help="Only packets from this country (ISO alpha-2, e.g. JP)."),
        click.option("--sensor", help="Only packets seen by this sensor."),
        click.option("--proto", help="Only this protocol (tcp, udp, icmp, icmpv6 or a number)."),
        json_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.group()
def top() -> None:
    """Rank destination ports or source countries for a period."""


def _top(dimension: str, **kw: Any) -> None:
    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import Filters, rank
    from teiten.cli_output import print_ranking
    from teiten.store import Engine, Store

    period = parse_period(kw["period"])
    filters = Filters(country=kw["country"], sensor=kw["sensor"], proto=kw["proto"])
    with Engine(Store(kw["store_dir"], create=False)) as engine:
        ranking = rank(
            engine,
            dimension,  # type: ignore[arg-type]
            period,
            metric=kw["metric"],
            traffic=kw["traffic"],
            filters=filters,
            limit=kw["limit"],
        )
    if kw["as_json"]:
        emit_json(ranking.as_json())
    else:
        print_ranking(ranking)


@top.command("ports")
@ranking_options
@_fail_cleanly
def top_ports(**kw: Any) -> None:
    """Top destination ports (ICMP by type), with the previous period's rank."""
    _top("ports", **kw)


@top.command("countries")
@ranking_options
@_fail_cleanly
def top_countries(**kw: Any) -> None:
    """Top source countries, with the previous period's rank."""
    _top("countries", **kw)


@main.group("store")
def store_group() -> None:
    """Inspect the store."""


@store_group.command("info")
@store_option
@json_option
@_fail_cleanly
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


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Where the captures and the store go.",
)
@click.option("--packets", default=3_000_000, show_default=True, type=click.IntRange(1000))
@click.option("--seed", default=2019, show_default=True, type=int)
@_fail_cleanly
def demo(out: Path, packets: int, seed: int) -> None:
    """Simulate 2019Q1-Q2 on four sensors, ingest, and print 2019Q2's rankings."""
    import time

    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import rank
    from teiten.cli_output import out as console
    from teiten.cli_output import print_ranking
    from teiten.demo import DEMO_PERIOD, run_demo
    from teiten.store import Engine

    started = time.monotonic()
    console.print(f"simulating {packets:,} packets of darknet traffic into {out}/captures ...")
    result = run_demo(out, packets=packets, seed=seed)
    data = result.report.as_json()
    console.print(
        f"ingested {result.files} capture files into {result.store.root}: "
        f"{data['packets']:,} packets stored, {data['duplicates']:,} already there, "
        f"{data['skipped']:,} skipped ({time.monotonic() - started:.1f} s)",
        highlight=False,
    )
    period = parse_period(DEMO_PERIOD)
    with Engine(result.store) as engine:
        for dimension in ("ports", "countries"):
            console.print()
            print_ranking(rank(engine, dimension, period, limit=10))  # type: ignore[arg-type]
    console.print(
        f"\nnext: teiten top ports --store {result.store.root} --period 2019-W15 --country JP",
        highlight=False,
    )


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
@click.option("--start", required=True, help="UTC start, e.g. 2019-04-01 or 2019-04-01T00:00.")
@click.option("--end", required=True, help="UTC end (exclusive).")
@click.option("--packets", default=1_000_000, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--per", type=click.Choice(["hour", "day", "file"]), default="day", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the written paths as JSON.")
@_fail_cleanly
def simulate(
    out: Path, start: str, end: str, packets: int, seed: int, per: str, as_json: bool
) -> None:
    """Write realistic simulated darknet captures (one pcap per sensor and period)."""
    from datetime import UTC, datetime

    from teiten.simulate import TRUTH_FILE, SimulationConfig, simulate_to_pcap

    try:
        config = SimulationConfig(
            start=datetime.fromisoformat(start).replace(tzinfo=UTC),
            end=datetime.fromisoformat(end).replace(tzinfo=UTC),
            packets=packets,
            seed=seed,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    paths = simulate_to_pcap(config, out, per=per)  # type: ignore[arg-type]
    if as_json:
        emit_json({"files": [str(p) for p in paths], "truth": str(out / TRUTH_FILE)})
    else:
        click.echo(f"wrote {len(paths)} capture files and {out / TRUTH_FILE}")


if __name__ == "__main__":  # pragma: no cover
    main()
