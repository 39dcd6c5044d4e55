"""`teiten simulate` (captures or a store of simulated darknet traffic) and its scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main


def _sensors(value: str | None) -> object:
    from teiten.simulate.config import DEFAULT_SENSORS, load_sensors, numbered_sensors

    if value is None:
        return DEFAULT_SENSORS
    if value.isdigit():
        return numbered_sensors(int(value))
    return load_sensors(value)


@main.group(invoke_without_command=True)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write captures here: OUT/SENSOR/SENSOR-PERIOD.pcap, OUT/truth.json and "
    "OUT/ip2asn-v4.tsv.gz (the sources' AS table).",
)
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write straight into this store instead (the rows ingest of the captures would give).",
)
@click.option("--start", help="UTC start, e.g. 2019-04-01 or 2019-04-01T00:00.")
@click.option("--end", help="UTC end (exclusive).")
@click.option("--packets", default=1_000_000, show_default=True, type=click.IntRange(0))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--scenario",
    metavar="NAME|FILE",
    help="Timed changes to the traffic: a built-in (teiten simulate scenarios) or a TOML file.",
)
@click.option(
    "--sensors",
    metavar="N|FILE",
    help="N numbered /24 sensors in 198.18.0.0/15, or a file of 'NAME PREFIX' lines "
    "[default: four /24s alpha … delta].",
)
@click.option("--per", type=click.Choice(["hour", "day", "file"]), default="day", show_default=True)
@click.option(
    "--format", "fmt", type=click.Choice(["pcap", "pcapng"]), default="pcap", show_default=True
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --store: also write the ground truth (JSON) to this file.",
)
@json_option
@click.pass_context
@fail_cleanly
def simulate(
    ctx: click.Context,
    out: Path | None,
    store_dir: Path | None,
    start: str | None,
    end: str | None,
    packets: int,
    seed: int,
    scenario: str | None,
    sensors: str | None,
    per: str,
    fmt: str,
    truth: Path | None,
    as_json: bool,
) -> None:
    """Simulate darknet traffic into captures (one per sensor and period) or a store.

    Deterministic: the same options give the same bytes. `teiten simulate scenarios`
    lists the built-in scenarios.
    """
    if ctx.invoked_subcommand is not None:
        return
    from datetime import UTC, datetime

    from teiten.simulate import TRUTH_FILE, SimulationConfig, load_scenario, simulate_to_pcap

    if (out is None) == (store_dir is None):
        raise click.UsageError("give exactly one of --out DIR (captures) or --store DIR")
    if start is None or end is None:
        raise click.UsageError("--start and --end are required")
    try:
        config = SimulationConfig(
            start=datetime.fromisoformat(start).replace(tzinfo=UTC),
            end=datetime.fromisoformat(end).replace(tzinfo=UTC),
            packets=packets,
            seed=seed,
            sensors=_sensors(sensors),  # type: ignore[arg-type]
            scenario=None if scenario is None else load_scenario(scenario),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    if out is not None:
        paths = simulate_to_pcap(config, out, per=per, fmt=fmt)  # type: ignore[arg-type]
        from teiten.simulate.as_table import FILE_NAME

        truth_file, as_file = out / TRUTH_FILE, out / FILE_NAME
        result: dict[str, Any] = {
            "files": [str(p) for p in paths],
            "truth": str(truth_file),
            "as_table": str(as_file),
        }
        summary = (
            f"wrote {len(paths)} capture files, {truth_file} and the sources' AS table "
            f"{as_file} (teiten asn import reads it)"
        )
    else:
        from teiten.simulate import simulate_to_store
        from teiten.store import Store

        found = simulate_to_store(config, Store(store_dir), truth_path=truth)
        result = {"store": str(store_dir), "packets": found.packets, "truth": truth and str(truth)}
        summary = f"simulated {found.packets:,} packets into the store {store_dir}"
    if as_json:
        emit_json(result)
    else:
        click.echo(summary)


@simulate.command("scenarios")
@json_option
def scenarios(as_json: bool) -> None:
    """List the built-in scenarios."""
    from teiten.simulate import BUILTIN_SCENARIOS, load_scenario

    found = [load_scenario(name) for name in BUILTIN_SCENARIOS]
    if as_json:
        emit_json(
            [
                {
                    "name": s.name,
                    "description": s.description,
                    "changes": [c.id for c in s.changes],
                    "campaigns": [c.id for c in s.campaigns],
                    "hosts": [h.id for h in s.hosts],
                }
                for s in found
            ]
        )
        return
    for s in found:
        click.echo(f"{s.name:9}  {s.description}")
