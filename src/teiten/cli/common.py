"""The ``teiten`` command group and the options every command spells the same way.

Library errors (:class:`teiten.errors.TeitenError`) become one-line messages
and exit status 1; usage errors exit 2 (click's convention). Errors of the engines
underneath (DuckDB, Arrow, SQLite, the file system) are explained here, at the one
edge every command passes, by :func:`teiten.store.damage.explain`: no traceback
reaches a user (``TEITEN_DEBUG=1`` shows it for an unexpected error).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.errors import OptionError, PeriodError, TeitenError

if TYPE_CHECKING:
    from teiten.store import Engine, Store

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
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
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            raise _explained(exc, kwargs.get("store_dir")) from exc

    return wrapper


def _explained(exc: Exception, store_dir: Path | None) -> click.ClickException:
    """One line for an engine error (naming the file and what to do) or a bug."""
    from teiten.store.damage import explain
    from teiten.store.dataset import default_store_path

    mapped = explain(exc, default_store_path(store_dir))
    if mapped is not None:
        return click.ClickException(str(mapped))
    if os.environ.get("TEITEN_DEBUG"):
        raise exc
    first = (str(exc).strip().splitlines() or [""])[0]
    return click.ClickException(
        f"internal error ({type(exc).__name__}: {first}); please report it with the command "
        "that caused it (TEITEN_DEBUG=1 shows where it happened)"
    )


def store_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--store",
        "store_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Store directory [default: $TEITEN_STORE or ./teiten-data].",
    )(func)


def engine_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine duckdb|spark``: which engine runs the command's queries."""
    return click.option(
        "--engine",
        "engine_name",
        type=click.Choice(["duckdb", "spark"]),
        default=None,
        help="Query engine: duckdb (local) or spark (PySpark; $TEITEN_SPARK_MASTER picks a "
        "cluster or an sc:// Spark Connect server) [default: $TEITEN_ENGINE or duckdb].",
    )(func)


@contextlib.contextmanager
def answering_engine(
    store: Store | Path | None, engine_name: str | None, engine: Engine | None = None
) -> Iterator[Engine]:
    """The engine an answer runs on: ``engine`` when the caller lends one (``teiten
    serve`` shares one per store version; it stays open), else one opened over ``store``
    (a directory or an opened store) by ``engine_name``, closed afterwards."""
    if engine is not None:
        yield engine
        return
    from teiten.store import Store, open_engine

    opened = store if isinstance(store, Store) else Store(store, create=False)
    with open_engine(opened, engine_name) as fresh:
        yield fresh


def period_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--period`` (required): the period a command answers for."""
    from teiten.analyze.periods import HELP

    return click.option("--period", required=True, help=f"Period: {HELP}.")(func)


def lang_option(default: str, help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--lang ja|en``: the language of what a command writes for people."""
    return click.option(
        "--lang", type=click.Choice(["ja", "en"]), default=default, show_default=True, help=help
    )


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def emit_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def emit_settings(config: Any, as_json: bool) -> None:
    """A validated configuration (a dataclass) as its settings: ``key = value`` lines,
    or JSON (paths as text)."""
    from dataclasses import asdict

    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()}
    if as_json:
        emit_json(settings)
        return
    for key, value in settings.items():
        click.echo(f"{key} = {value}")


# Each command's module, imported only when the command runs (or help lists it): a
# command pays for its own imports, not for every other command's.
COMMANDS = {
    "asn": "asn",
    "collector": "collector",
    "demo": "demo",
    "events": "events",
    "explain": "explain",
    "infected": "infected",
    "ingest": "ingest",
    "knowledge": "knowledge",
    "notify": "notify",
    "phenomena": "phenomena",
    "report": "report",
    "scanners": "scanners",
    "sensor": "sensor",
    "sensors": "sensors",
    "series": "series",
    "serve": "web",
    "simulate": "simulate",
    "source": "sources",
    "sources": "sources",
    "store": "store",
    "top": "top",
    "web": "web",
}


class LazyGroup(click.Group):
    """The ``teiten`` group: a command's module registers it on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"teiten.cli.{COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(package_name="teiten")
def main() -> None:
    """teiten (定点): Internet fixed-point observation of darknet traffic.

    Ingest packet captures from darknet sensors into a day-partitioned Parquet
    store, then rank what arrived by destination port and source country.
    """
