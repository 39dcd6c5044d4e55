"""`teiten demo` and `teiten simulate`."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, main


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
@fail_cleanly
def demo(out: Path, packets: int, seed: int) -> None:
    """Simulate 2019Q1-Q2 on four sensors, ingest, and print 2019Q2's rankings."""
    import time

    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import rank
    from teiten.cli.output import out as console
    from teiten.cli.output import print_ranking
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
@fail_cleanly
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
