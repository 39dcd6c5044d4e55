"""The HTTP API's answers: each endpoint mirrors a table command of the CLI.

An endpoint takes the query parameters its command takes as options, named as they are
(``--exclude-tag`` is ``exclude_tag``, repeatable ones are repeated:
``?tag=mirai&tag=zmap``), checks them with the command's own click types (so a bad value
gets the CLI's message) and computes the answer with the command's own function (so its
JSON is the command's ``--json``, byte for byte, and ``format=csv`` its ``--csv``).
Public mode keeps what :func:`public_view` leaves of an answer: aggregates, no source or
victim address, nothing per sensor.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.cli.tables import Answer, write_csv
from teiten.errors import OptionError, ParameterError

if TYPE_CHECKING:
    from teiten.store import Engine

__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "answer",
    "csv_of",
    "parse_query",
    "public_view",
]

# Options of the commands that are not query parameters: the server's own settings
# (store, engine), the output format (``format=json|csv``), and what only the
# command's table shows.
_NOT_QUERIED = {"store_dir", "engine_name", "as_json", "as_csv", "show_tags", "lang"}
FORMATS = ("json", "csv")


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["rows"])


@dataclass(frozen=True)
class Endpoint:
    """``GET /api/v1/<path>``: the answer of the CLI command ``command``."""

    path: str
    command: tuple[str, ...]  # e.g. ("top", "ports")
    compute: Callable[..., Answer]
    summary: str
    public: bool = True  # answered in public mode (by :func:`public_view`)
    formats: tuple[str, ...] = FORMATS  # the command's: --json, and --csv if it has one
    rows: Callable[[dict[str, Any]], list[dict[str, Any]]] = _rows  # its JSON's CSV rows

    def click_command(self) -> click.Command:
        """The CLI command this endpoint mirrors (its options are the parameters)."""
        from teiten.cli import main

        command: click.Command = main
        for name in self.command:
            assert isinstance(command, click.Group)
            found = command.get_command(click.Context(command), name)
            assert found is not None, self.command
            command = found
        return command

    def parameters(self) -> list[click.Parameter]:
        return [p for p in self.click_command().params if p.name not in _NOT_QUERIED]


def _top(dimension: str) -> Callable[..., Answer]:
    def compute(**kw: Any) -> Answer:
        from teiten.cli.top import top_answer

        return top_answer(dimension, **kw)

    return compute


def _scans(**kw: Any) -> Answer:
    from teiten.cli.events import scans_answer

    return scans_answer(**kw)


def _dos(**kw: Any) -> Answer:
    from teiten.cli.events import dos_answer

    return dos_answer(**kw)


def _phenomena(**kw: Any) -> Answer:
    from teiten.cli.phenomena import phenomena_answer

    return phenomena_answer(**kw)


def _sources(**kw: Any) -> Answer:
    from teiten.cli.sources import sources_answer

    return sources_answer(**kw)


def _source(**kw: Any) -> Answer:
    from teiten.cli.sources import source_answer

    return source_answer(**kw)


def _series(**kw: Any) -> Answer:
    from teiten.cli.series import series_answer

    return series_answer(**kw)


def _infected(**kw: Any) -> Answer:
    from teiten.cli.infected import infected_answer

    return infected_answer(**kw)


def _findings(body: dict[str, Any]) -> list[dict[str, Any]]:
    return list(body["findings"])


def _series_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    from teiten.analyze.series import series_rows

    return series_rows(body)


ENDPOINTS = [
    Endpoint(
        "top/ports",
        ("top", "ports"),
        _top("ports"),
        "Top destination ports (ICMP by type), with the previous period's rank",
    ),
    Endpoint(
        "top/countries",
        ("top", "countries"),
        _top("countries"),
        "Top source countries, with the previous period's rank",
    ),
    Endpoint(
        "top/asns",
        ("top", "asns"),
        _top("asns"),
        "Top source ASes, with the previous period's rank",
    ),
    Endpoint(
        "events/scans",
        ("events", "scans"),
        _scans,
        "Scan events: one source sweeping one port, with its Internet-wide rate",
    ),
    Endpoint(
        "events/dos",
        ("events", "dos"),
        _dos,
        "DoS attacks inferred from backscatter",
    ),
    Endpoint(
        "phenomena",
        ("phenomena",),
        _phenomena,
        "The notable phenomena of a period, with their evidence and attribution",
        rows=_findings,
    ),
    Endpoint(
        "series",
        ("series",),
        _series,
        "Counts per day or hour for any filter, with the tag breakdown",
        rows=_series_rows,
    ),
    Endpoint(
        "infected",
        ("infected",),
        _infected,
        "A country's infected hosts per AS, new and gone, and per day",
    ),
    Endpoint(
        "sources",
        ("sources",),
        _sources,
        "Sources of a period, most packets first (operators)",
        public=False,
    ),
    Endpoint(
        "source/{ip}",
        ("source",),
        _source,
        "One source's whole history (operators)",
        public=False,
        formats=("json",),
    ),
]


def query_name(param: click.Parameter) -> str:
    """The query parameter of a command option: its long name (``--exclude-tag`` →
    ``exclude_tag``)."""
    if isinstance(param, click.Argument):
        return str(param.name)
    longest = max(param.opts, key=len)
    return longest.lstrip("-").replace("-", "_")


def parse_query(
    endpoint: Endpoint, query: Sequence[tuple[str, str]], *, public: bool = False
) -> tuple[dict[str, Any], str]:
    """The command's keyword arguments for ``query`` (checked with its click types,
    defaults filled in) and the output format; :class:`ParameterError` names the
    first parameter refused."""
    params = {query_name(p): p for p in endpoint.parameters()}
    given: dict[str, list[str]] = {}
    for name, value in query:
        given.setdefault(name, []).append(value)
    for name in given:
        if name != "format" and name not in params:
            known = ", ".join(sorted([*params, "format"]))
            raise ParameterError(name, f"unknown parameter {name!r}; parameters: {known}")
    output = _single(given, "format", "json")
    if output not in endpoint.formats:
        choices = ", ".join(repr(f) for f in endpoint.formats)
        raise ParameterError(
            "format", f"Invalid value for 'format': {output!r} is not one of {choices}."
        )
    if public and given.get("sensor"):
        raise ParameterError("sensor", "per-sensor figures are not published (public mode)")
    if public and given.get("prefix"):  # a /32 would tell one host's traffic
        raise ParameterError("prefix", "figures per source network are not published (public mode)")
    args: list[str] = []
    arguments: list[str] = []
    for name, values in given.items():
        if name == "format":
            continue
        param = params[name]
        if len(values) > 1 and not param.multiple:
            raise ParameterError(name, f"'{name}' was given {len(values)} times; give it once.")
        if isinstance(param, click.Argument):
            arguments += values
        elif isinstance(param, click.Option) and param.is_flag:
            if values[0].lower() not in _BOOLEANS:
                raise ParameterError(name, f"Invalid value for '{name}': say true or false.")
            args += [max(param.opts, key=len)] if _BOOLEANS[values[0].lower()] else []
        else:
            for value in values:
                args += [max(param.opts, key=len), value]
    command = endpoint.click_command()
    try:
        ctx = command.make_context(command.name, [*args, "--", *arguments])
    except click.BadParameter as exc:
        name = query_name(exc.param) if exc.param is not None else "query"
        raise ParameterError(name, exc.format_message()) from exc
    except click.UsageError as exc:
        raise ParameterError("query", exc.format_message()) from exc
    kwargs = {k: v for k, v in ctx.params.items() if k not in _NOT_QUERIED}
    return kwargs, output


_BOOLEANS = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


def _single(given: dict[str, list[str]], name: str, default: str) -> str:
    values = given.get(name, [])
    if len(values) > 1:
        raise ParameterError(name, f"'{name}' was given {len(values)} times; give it once.")
    return values[0] if values else default


_OPTION = re.compile(r"--([a-z][a-z-]*)")


def answer(
    endpoint: Endpoint,
    kwargs: dict[str, Any],
    store: Path,
    engine_name: str | None,
    engine: Engine | None = None,
) -> Answer:
    """The endpoint's answer over ``store`` (on ``engine`` when one is lent, else on one
    of its own); a refused option (an unknown sensor, a bad period) is an
    :class:`ParameterError` naming its query parameter."""
    try:
        return endpoint.compute(store_dir=store, engine_name=engine_name, engine=engine, **kwargs)
    except click.BadParameter as exc:
        hint = exc.param_hint if isinstance(exc.param_hint, str) else ""
        name = _parameter_named(hint or exc.format_message(), endpoint)
        raise ParameterError(name, exc.format_message()) from exc
    except ParameterError:
        raise
    except OptionError as exc:
        raise ParameterError(_parameter_named(str(exc), endpoint), str(exc)) from exc


def _parameter_named(text: str, endpoint: Endpoint) -> str:
    """The query parameter an error message names (``--period`` → ``period``), or ``query``."""
    names = {query_name(p) for p in endpoint.parameters()}
    for match in _OPTION.finditer(text):
        name = match.group(1).replace("-", "_")
        if name in names:
            return name
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"\b{name}\b", text):
            return name
    return "query"


def csv_of(endpoint: Endpoint, result: Answer, body: dict[str, Any], *, public: bool) -> str:
    """The rows of ``body`` (``result``'s JSON, or its ``public`` view) as the command's
    ``--csv`` prints them (without rows, its header: in public, without the address
    columns)."""
    rows = endpoint.rows(body)
    columns = [c for c in result.columns if not public or c.split(".")[0] not in _ADDRESS_KEYS]
    out = io.StringIO()
    write_csv(rows, out, columns)
    return out.getvalue()


# What public mode removes of every answer: addresses of sources and victims.
_ADDRESS_KEYS = frozenset({"source", "victim", "src", "dst", "ip", "address", "addresses"})


def public_view(endpoint: Endpoint, body: dict[str, Any]) -> dict[str, Any]:
    """What public mode publishes of an endpoint's JSON, by the rules of a published
    report with its default settings (:mod:`teiten.report.publish`): no address of a
    source or a victim, nothing of one sensor, no sensor count or darknet size (nor a
    figure that gives them: no per-sensor value beside a total, shares as a report
    shows them; a series' counts, and the infected hosts' trend, to 3 significant
    digits, as a report's daily counts)."""
    from teiten.report.publish import shown_share, significant

    body = _without_addresses(body)
    body.pop("darknet", None)
    if isinstance(body.get("total"), dict):
        body["total"] = {k: v for k, v in body["total"].items() if k != "sensors"}
    parameters = body.get("parameters")
    if isinstance(parameters, dict):
        body["parameters"] = {
            k: v for k, v in parameters.items() if k not in ("min_rate_darknet", "derived_from")
        }
    if endpoint.command[0] == "top":
        body["tag_shares"] = {k: shown_share(v) for k, v in body["tag_shares"].items()}
    if endpoint.command[0] == "top" or endpoint.command == ("infected",):
        for row in body["rows"]:
            del row["per_sensor"]  # beside the row's packets, it gives the sensor count away
            row["share"] = shown_share(row["share"])
            row["tag_shares"] = {k: shown_share(v) for k, v in row["tag_shares"].items()}
            row["top_sources_share"] = [shown_share(v) for v in row["top_sources_share"]]
    if endpoint.command == ("series",):  # rounded as a report's daily counts
        body["values"] = [significant(v) for v in body["values"]]
        body["breakdown"] = {k: [significant(v) for v in vs] for k, vs in body["breakdown"].items()}
    if endpoint.command == ("infected",):  # its trend too
        body["trend"]["values"] = [significant(v) for v in body["trend"]["values"]]
    return body


def _without_addresses(value: Any) -> Any:
    """``value`` (JSON) without any key that holds an address, copied."""
    if isinstance(value, dict):
        return {k: _without_addresses(v) for k, v in value.items() if k not in _ADDRESS_KEYS}
    if isinstance(value, list):
        return [_without_addresses(v) for v in value]
    return value
