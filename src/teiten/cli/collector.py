"""`teiten collector serve|check`: the HTTP(S) service sensors upload batches to."""

from __future__ import annotations

from pathlib import Path

import click

from teiten.cli.common import emit_settings, fail_cleanly, json_option, main

_CONFIG = click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The collector's TOML configuration (see docs/collector.md).",
)


@main.group("collector")
def collector_group() -> None:
    """Receive sensors' batches over HTTP(S) and store each exactly once."""


@collector_group.command("serve")
@_CONFIG
@fail_cleanly
def collector_serve(config_path: Path) -> None:
    """Serve POST /v1/batches, GET /health and GET /metrics until stopped.

    Register sensors first with `teiten sensors add NAME --prefix CIDR`.
    """
    from teiten.collector import load_config, serve

    serve(load_config(config_path))


@collector_group.command("check")
@_CONFIG
@json_option
@fail_cleanly
def collector_check(config_path: Path, as_json: bool) -> None:
    """Validate the configuration and print the settings it gives (exit 1 if invalid)."""
    from teiten.collector import load_config

    emit_settings(load_config(config_path), as_json)
