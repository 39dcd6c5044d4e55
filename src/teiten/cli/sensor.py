"""`teiten sensor push|upload|status`: a sensor's spool and its uploads to the collector."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from teiten.cli.common import emit_json, fail_cleanly, json_option, main

_CONFIG = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The sensor's sensor.toml.",
)


@main.group()
def sensor() -> None:
    """A sensor's spool and its uploads to the collector (see docs/sensor.md)."""


def _spool(config):  # type: ignore[no-untyped-def]
    from teiten.sensor import Spool

    return Spool(config.spool, max_bytes=config.spool_max_bytes, policy=config.spool_policy)


@sensor.command("push")
@_CONFIG
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@fail_cleanly
def sensor_push(config_path: Path, files: tuple[Path, ...], as_json: bool) -> None:
    """Decode capture FILES (e.g. rotated by tcpdump -G) into spooled batches."""
    from teiten.sensor.config import load_sensor_config
    from teiten.sensor.files import spool_captures

    config = load_sensor_config(config_path)
    report = spool_captures(list(files), _spool(config), config.batch_packets)
    data = {
        "batches": report.batches,
        "packets": report.packets,
        "dropped_packets": report.dropped_packets,
        "skipped": dict(report.skipped),
        "errors": report.errors,
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(
            f"spooled {report.packets:,} packets in {report.batches} batches; "
            f"{sum(report.skipped.values()):,} not decodable, "
            f"{report.dropped_packets:,} dropped by a full spool"
        )
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
    if report.errors:
        raise SystemExit(1)


@sensor.command("upload")
@_CONFIG
@click.option("--follow", is_flag=True, help="Keep running: wait for new batches when empty.")
@fail_cleanly
def sensor_upload(config_path: Path, follow: bool) -> None:
    """Send the spooled batches to the collector until each is acknowledged."""
    from teiten.sensor import Uploader
    from teiten.sensor.config import load_sensor_config

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_sensor_config(config_path)
    uploader = Uploader(
        _spool(config),
        config.url,
        config.name,
        config.token(),
        ca_file=config.ca_file,
        timeout=config.timeout_seconds,
    )
    try:
        uploader.drain(idle=1.0 if follow else None)
    except KeyboardInterrupt:
        pass
    finally:
        uploader.close()
    s = uploader.stats
    click.echo(f"sent {s.sent}, already stored {s.duplicates}, rejected {s.rejected}")


@sensor.command("status")
@_CONFIG
@json_option
@fail_cleanly
def sensor_status(config_path: Path, as_json: bool) -> None:
    """Batches waiting in the spool, its size, and the batches set aside as rejected."""
    from teiten.sensor.config import load_sensor_config

    config = load_sensor_config(config_path)
    spool = _spool(config)
    entries = spool.entries()
    data = {
        "sensor": config.name,
        "waiting_batches": len(entries),
        "waiting_bytes": sum(e.size for e in entries),
        "max_bytes": spool.max_bytes,
        "policy": spool.policy,
        "rejected_batches": len(list((spool.root / "rejected").glob("*.batch"))),
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(
            f"sensor {data['sensor']}: {data['waiting_batches']} batches waiting "
            f"({data['waiting_bytes']:,} of {data['max_bytes']:,} bytes, {data['policy']}), "
            f"{data['rejected_batches']} rejected"
        )


@sensor.command("run")
@_CONFIG
@click.option(
    "--no-upload", is_flag=True, help="Only capture into the spool (upload with `sensor upload`)."
)
@fail_cleanly
def sensor_run(config_path: Path, no_upload: bool) -> None:
    """Capture live on capture.interface (Linux, root or CAP_NET_RAW), keep the packets to
    capture.prefixes in the spool, and upload them, until SIGTERM or Ctrl-C."""
    import signal
    import threading

    from teiten.sensor.config import load_sensor_config
    from teiten.sensor.run import run_sensor

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = load_sensor_config(config_path)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        counters = run_sensor(config, stop, upload=not no_upload)
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot capture: {exc}") from exc
    click.echo(
        f"captured {counters.captured:,} frames: {counters.spooled:,} packets to our prefixes "
        f"spooled, {counters.outside:,} to other addresses left out, "
        f"{counters.undecodable:,} not decodable; kernel drops {counters.kernel_drops:,}"
    )
