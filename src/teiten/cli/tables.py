"""Machine output of the table commands: ``--json`` or ``--csv``, from the same rows.

Each table command builds its JSON answer once; ``--csv`` writes that answer's
``rows`` (one CSV line per row, a header first) with one writer for every command,
so a CSV cell always holds the number the JSON holds. Nested values are flattened:

* an object becomes one column per key, named ``parent.key`` (``tag_shares.mirai``),
  recursively;
* a list of plain values becomes one cell, its items joined with ``;``
  (``23/tcp;80/tcp``); a list of objects becomes one cell of compact JSON;
* null and an empty list are an empty cell, true/false are ``true``/``false``,
  numbers are written as JSON writes them.

Columns are the union of the rows' keys in the order they first appear; a key only
some rows have (``icmp_type``) is an empty cell in the others.
"""

from __future__ import annotations

import csv
import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import click

__all__ = ["Answer", "emit_answer", "emit_csv", "flatten", "output_options", "write_csv"]


def output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--json`` and ``--csv``, passed to the command as ``output``: "table", "json" or "csv"."""

    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool, as_csv: bool, **kwargs: Any) -> Any:
        if as_json and as_csv:
            raise click.UsageError("--json and --csv are exclusive: choose one")
        output = "json" if as_json else "csv" if as_csv else "table"
        return func(*args, output=output, **kwargs)

    wrapper = click.option(
        "--csv",
        "as_csv",
        is_flag=True,
        help="Print the rows as CSV (a header, then the numbers --json gives).",
    )(wrapper)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(wrapper)


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """One row's cells: nested objects as ``parent.key`` columns, lists as one cell."""
    cells: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            cells |= flatten(value, f"{name}.")
        else:
            cells[name] = _cell(value)
    return cells


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        if any(isinstance(v, dict | list | tuple) for v in value):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
        return ";".join(_cell(v) for v in value)
    if isinstance(value, int | float):
        return json.dumps(value)
    return str(value)


def _columns(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> list[str]:
    """Union of the rows' keys, each new one placed after the key it follows in its row."""
    order = list(columns)
    for row in rows:
        previous = None
        for key in row:
            if key not in order:
                order.insert(order.index(previous) + 1 if previous else len(order), key)
            previous = key
    return order


def write_csv(rows: Sequence[dict[str, Any]], out: TextIO, columns: Sequence[str] = ()) -> None:
    """Write ``rows`` (JSON-ready dicts) as CSV; ``columns`` is the header when there are none."""
    cells = [flatten(r) for r in rows]
    header = _columns(cells, [] if cells else columns)
    writer = csv.DictWriter(out, header, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(cells)


def emit_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] = ()) -> None:
    """Print ``rows`` as CSV on standard output."""
    write_csv(rows, sys.stdout, columns)


@dataclass(frozen=True)
class Answer:
    """A table command's answer, computed once: ``value`` for its table, ``json`` for
    ``--json`` (and the HTTP API), ``rows`` for ``--csv`` (``columns``: the header when
    there are no rows)."""

    value: Any
    json: dict[str, Any]
    rows: Sequence[dict[str, Any]]
    columns: Sequence[str] = ()


def emit_answer(answer: Answer, output: str, table: Callable[[Any], None]) -> None:
    """Print ``answer`` as ``output`` asks: JSON, CSV, or ``table(answer.value)``."""
    if output == "json":
        from teiten.cli.common import emit_json

        emit_json(answer.json)
    elif output == "csv":
        emit_csv(answer.rows, answer.columns)
    else:
        table(answer.value)
