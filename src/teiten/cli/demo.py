"""`teiten demo`."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import fail_cleanly, main


@main.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Where the captures, the store and the reports go.",
)
@click.option("--packets", default=3_000_000, show_default=True, type=click.IntRange(1000))
@click.option("--seed", default=2019, show_default=True, type=int)
@fail_cleanly
def demo(out: Path, packets: int, seed: int) -> None:
    """Simulate 2019Q1-Q2 on four sensors (the 2019q2 scenario), ingest, print 2019Q2's
    top 5 ports, regions and ASes, and write its report in Japanese and English (HTML,
    PDF)."""
    import time

    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import rank
    from teiten.cli.output import out as console
    from teiten.cli.output import print_ranking
    from teiten.demo import DEMO_PERIOD, demo_feed, demo_reports, run_demo
    from teiten.store import open_engine
    from teiten.store.asn import as_names

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
    names = as_names(result.store.root)
    with open_engine(result.store) as engine:
        for dimension in ("ports", "countries", "asns"):
            console.print()
            ranking = rank(engine, dimension, period, metric="per-sensor", limit=5, as_names=names)
            print_ranking(ranking)
    console.print(
        f"\nbuilding the {DEMO_PERIOD} notification feed of the Japanese AS with the most "
        "infected hosts ...",
        highlight=False,
    )
    feed = demo_feed(result.store, out)
    if feed is None:
        console.print("  no AS data: no feed", highlight=False)
    else:
        console.print(f"  {feed} (recipients: {out / 'notify.toml'})", highlight=False)
        for line in feed.read_text(encoding="utf-8").splitlines()[:14]:
            console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print(f"\nwriting the {DEMO_PERIOD} report (ja, en; HTML, PDF) ...", highlight=False)
    for path in demo_reports(result.store, out):
        console.print(f"  {path}", highlight=False)
    console.print(
        f"done in {time.monotonic() - started:.0f} s. next: teiten phenomena --store "
        f"{result.store.root} --period {DEMO_PERIOD}; teiten top ports --store "
        f"{result.store.root} --period 2019-W15 --country JP",
        highlight=False,
    )
    console.print(
        f"open the dashboard: teiten serve --store {result.store.root}, then "
        f"http://127.0.0.1:8752/?period={DEMO_PERIOD} (the API: "
        f"http://127.0.0.1:8752/api/v1/top/ports?period={DEMO_PERIOD}; docs/web.md)",
        highlight=False,
    )
