"""`teiten serve` and `teiten web tokens|check`: the web dashboard and HTTP API over a store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.cli.common import (
    emit_json,
    emit_settings,
    engine_option,
    fail_cleanly,
    json_option,
    main,
    store_option,
)

if TYPE_CHECKING:
    from teiten.web.tokens import Tokens

_USAGE = "send it with each request in the header `Authorization: Bearer <token>`"


def _issued(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds")


@contextmanager
def _tokens(store_dir: Path | None) -> Iterator[Tokens]:
    """The store's operator tokens, closed after use."""
    from teiten.store import default_store_path
    from teiten.web.tokens import Tokens

    tokens = Tokens(default_store_path(store_dir))
    try:
        yield tokens
    finally:
        tokens.close()


@main.group("web")
def web_group() -> None:
    """The web dashboard and HTTP API (`teiten serve`): configuration and operator tokens."""


@web_group.group("tokens")
def tokens_group() -> None:
    """Operator tokens: bearer tokens that see everything `teiten serve` offers."""


@tokens_group.command("add")
@store_option
@click.argument("name")
@json_option
@fail_cleanly
def tokens_add(store_dir: Path | None, name: str, as_json: bool) -> None:
    """Issue an operator token called NAME and print it (shown only this once).

    Only a hash of the token is kept, in <store>/web/tokens.sqlite (mode 0600).
    A running `teiten serve` accepts it at once.
    """
    with _tokens(store_dir) as tokens:
        token = tokens.add(name)
    _show(name, token, as_json, f"operator token {name} issued")


@tokens_group.command("rotate")
@store_option
@click.argument("name")
@json_option
@fail_cleanly
def tokens_rotate(store_dir: Path | None, name: str, as_json: bool) -> None:
    """Issue NAME a new token and print it (the old one stops working at once)."""
    with _tokens(store_dir) as tokens:
        token = tokens.rotate(name)
    _show(name, token, as_json, f"operator token {name} rotated; the old one stops working now")


def _show(name: str, token: str, as_json: bool, what: str) -> None:
    if as_json:
        emit_json({"name": name, "token": token})
        return
    click.echo(f"{what}; the token (shown only this once, only its hash is kept):")
    click.echo(token)
    click.echo(_USAGE)


@tokens_group.command("remove")
@store_option
@click.argument("name")
@fail_cleanly
def tokens_remove(store_dir: Path | None, name: str) -> None:
    """Remove operator token NAME (requests with it are refused from now on)."""
    with _tokens(store_dir) as tokens:
        tokens.remove(name)
    click.echo(f"operator token {name} removed; requests with it are refused from now on")


@tokens_group.command("list")
@store_option
@json_option
@fail_cleanly
def tokens_list(store_dir: Path | None, as_json: bool) -> None:
    """Operator tokens: names and when each was issued (never the tokens)."""
    with _tokens(store_dir) as tokens:
        rows = [{"name": t.name, "issued_at": _issued(t.issued_at)} for t in tokens.list()]
    if as_json:
        emit_json({"tokens": rows})
        return
    if not rows:
        click.echo("no operator tokens (teiten web tokens add NAME)")
    for r in rows:
        click.echo(f"{r['name']}: issued {r['issued_at']}")


@web_group.command("check")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The web service's TOML configuration (see docs/web.md).",
)
@json_option
@fail_cleanly
def web_check(config_path: Path, as_json: bool) -> None:
    """Validate the configuration and print the settings it gives (exit 1 if invalid)."""
    from teiten.web.config import load_config

    emit_settings(load_config(config_path), as_json)


@main.command("serve")
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Store directory to serve [default: the config's [store] path, else $TEITEN_STORE].",
)
@click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None, help="TCP port [default: 8752]."
)
@click.option(
    "--public", is_flag=True, help="Public mode: aggregates only, except for operator tokens."
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The web service's TOML configuration (see docs/web.md); options given here win.",
)
@engine_option
@fail_cleanly
def serve_command(
    store_dir: Path | None,
    host: str | None,
    port: int | None,
    public: bool,
    config_path: Path | None,
    engine_name: str | None,
) -> None:
    """Serve the web dashboard and HTTP API over a store until stopped.

    Issue operator tokens with `teiten web tokens add NAME`.
    """
    import dataclasses
    import os

    from teiten.errors import OptionError
    from teiten.store import Store
    from teiten.web.config import WebConfig, load_config

    config = load_config(config_path) if config_path is not None else WebConfig()
    given = {"store": store_dir, "host": host, "port": port, "engine": engine_name}
    overrides: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if public:
        overrides["public"] = True
    config = dataclasses.replace(config, **overrides)
    if config.store is None:
        env = os.environ.get("TEITEN_STORE")
        if not env:
            raise OptionError(
                "no store to serve: pass --store DIR, set $TEITEN_STORE, or give a --config "
                "file with a [store] path"
            )
        config = dataclasses.replace(config, store=Path(env))
    Store(config.store, create=False).close()  # NotAStoreError, with what to do, if not one

    from teiten.web.serve import serve

    serve(config)
