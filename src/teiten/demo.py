"""The demo: two simulated quarters of darknet traffic, ingested and ranked.

It is what `make demo` runs: a newcomer sees the whole pipeline — captures
written per sensor and day as real sensors write them, the simulation's own AS table
imported as an operator imports iptoasn's, the captures ingested exactly once, and the
quarter's rankings against the previous quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from teiten.ingest import IngestReport, ingest
from teiten.simulate import Scenario, SimulationConfig, load_scenario, simulate_to_pcap
from teiten.simulate.as_table import FILE_NAME as AS_TABLE
from teiten.store import Store
from teiten.store.asn import import_asn_file, open_store_geo

__all__ = [
    "DEMO_PERIOD",
    "DEMO_SCENARIO",
    "DemoResult",
    "demo_feed",
    "demo_reports",
    "run_demo",
]

DEMO_PERIOD = "2019Q2"


@dataclass
class DemoResult:
    captures: Path
    store: Store
    files: int
    report: IngestReport


def demo_config(
    packets: int = 3_000_000, seed: int = 2019, scenario: Scenario | None = None
) -> SimulationConfig:
    """2019Q1 and 2019Q2 as seen by the default sensors (with ``scenario``'s changes, if any)."""
    return SimulationConfig(
        start=datetime(2019, 1, 1, tzinfo=UTC),
        end=datetime(2019, 7, 1, tzinfo=UTC),
        packets=packets,
        seed=seed,
        scenario=scenario,
    )


DEMO_SCENARIO = "2019q2"


def run_demo(
    out_dir: Path,
    *,
    packets: int = 3_000_000,
    seed: int = 2019,
    scenario: str | None = DEMO_SCENARIO,
) -> DemoResult:
    """Simulate (the built-in 2019q2 story by default), write per-sensor daily pcaps,
    import the simulation's AS table (dated the day the simulation starts), and ingest
    the captures (again: nothing is added twice)."""
    config = demo_config(packets, seed, load_scenario(scenario) if scenario else None)
    captures = out_dir / "captures"
    paths = simulate_to_pcap(config, captures, per="day")
    store = Store(out_dir / "store")
    import_asn_file(store, captures / AS_TABLE, fmt="iptoasn", on=config.start.date())
    report = IngestReport()
    with open_store_geo(store.root) as geo:
        for sensor in config.sensors:
            mine = [p for p in paths if p.parent.name == sensor.name]
            report.results += ingest(mine, store, geo, sensor=sensor.name).results
    return DemoResult(captures, store, len(paths), report)


# The demo's notify.toml: one recipient, a Japanese ISP's CSIRT told about the infected
# hosts of the busiest Japanese AS, its feeds written into a folder.
_NOTIFY_TOML = """\
# The demo's recipients file (every key: docs/examples/notify.toml).
[feed]
tlp = "amber"
organisation = "teiten demo"

[[recipient]]
name = "{name}"
asns = [{asn}]

[recipient.delivery]
kind = "directory"
path = "{folder}"
"""


def demo_feed(store: Store, out_dir: Path) -> Path | None:
    """The notification feed of :data:`DEMO_PERIOD` for the Japanese AS with the most
    infected sources: ``notify.toml`` written into ``out_dir``, the feeds of the period
    and the one before built (so rows say new, ongoing or gone) and sent once into
    ``out_dir/notify/``. Returns the period's CSV (None: no AS data)."""
    from teiten.analyze.infected import infected_by_as
    from teiten.analyze.periods import parse_period
    from teiten.notify import build_feeds, load_config, send_feeds
    from teiten.store import open_engine

    period = parse_period(DEMO_PERIOD)
    with open_engine(store) as engine:
        infected = infected_by_as(engine, period, "JP", limit=1)
    if infected is None or not infected.rows or infected.rows[0]["asn"] is None:
        return None
    asn = infected.rows[0]["asn"]
    folder = out_dir / "notify"
    config = out_dir / "notify.toml"
    name = f"as{asn}"
    config.write_text(_NOTIFY_TOML.format(name=name, asn=asn, folder=folder.resolve()))
    loaded = load_config(config)
    for p in (period.previous(), period):
        build_feeds(store, loaded, p)
    send_feeds(store, loaded)
    found = sorted(folder.glob(f"*{name}*{DEMO_PERIOD}*.csv"))
    return found[0] if found else None


def demo_reports(
    store: Store, out_dir: Path, *, formats: tuple[str, ...] = ("html", "pdf")
) -> list[Path]:
    """The demo period's report in Japanese and English, in each of ``formats``."""
    from teiten.analyze.periods import parse_period
    from teiten.report import build_report, write_report

    data = build_report(store, parse_period(DEMO_PERIOD))
    written = []
    for lang in ("ja", "en"):
        for fmt in formats:
            out = out_dir / f"report-{DEMO_PERIOD}.{lang}.{fmt}"
            written += write_report(data, out, lang=lang, fmt=fmt)
    return written
