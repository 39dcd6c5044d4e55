"""`teiten phenomena`: the notable phenomena of a period, with their evidence."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from teiten.cli.common import (
    engine_option,
    fail_cleanly,
    lang_option,
    main,
    store_option,
)
from teiten.cli.filters import country_option
from teiten.cli.tables import Answer, emit_answer, output_options

if TYPE_CHECKING:
    from teiten.store import Engine

# Columns of a finding (the CSV header when nothing is found); evidence adds its own.
FINDING_COLUMNS = (
    "kind",
    "headline",
    "notable",
    "start",
    "end",
    "sources",
    "attribution",
    "title.ja",
    "title.en",
    "text.ja",
    "text.en",
    "knowledge",
    "score",
)


@main.command()
@store_option
@engine_option
@click.option("--period", required=True, help="Period, e.g. 2019Q2, 2019-04, 2019-W15.")
@country_option(
    "--focus-country",
    default="JP",
    help="Country whose port crossovers and Mirai-type share are examined.",
)
@lang_option("en", "Language of the findings' titles and texts.")
@click.option("--limit", type=click.IntRange(1), default=None, help="At most this many findings.")
@output_options
@fail_cleanly
def phenomena(output: str, **kw: Any) -> None:
    """Find the period's notable phenomena: new entrants to the top 5, surges and drops
    (with their dates and related CVEs), crossovers and the Mirai-type share trend of the
    focus country — each attributed (its sources, the busiest's share: † one host, ‡ a
    few), judged against volume and persistence thresholds, and merged with those made by
    the same sources. The report's headlines first, then the rest (its appendix). A
    store's first period has no previous period to compare with: no new entrants, and the
    output says so ("previous_data": false).

    --csv writes one line per finding: its subject, title and text in both languages,
    and its evidence as columns (see docs/phenomena.md)."""
    lang = kw.pop("lang")
    emit_answer(phenomena_answer(**kw), output, lambda v: _print(v[0], v[1], v[2], lang))


def phenomena_answer(
    store_dir: Path | None,
    engine_name: str | None,
    period: str,
    focus_country: str,
    limit: int | None,
    engine: Engine | None = None,
) -> Answer:
    """The findings of ``teiten phenomena`` for its options (``engine``: one to run on,
    lent by the caller)."""
    from teiten.analyze.periods import parse_period
    from teiten.analyze.phenomena import PhenomenaSettings, find_phenomena, previous_observed
    from teiten.cli.common import answering_engine
    from teiten.knowledge import load_knowledge

    parsed = parse_period(period)
    settings = PhenomenaSettings(focus_country=focus_country)
    with answering_engine(store_dir, engine_name, engine) as engine:
        kb = load_knowledge(store=engine.store.root)
        findings = find_phenomena(engine, parsed, settings=settings, kb=kb)
        compared = previous_observed(engine, parsed)
    findings = findings[:limit] if limit else findings
    rows = [f.as_json() for f in findings]
    answer = {
        "period": parsed.as_json(),
        "focus_country": focus_country,
        "previous_data": compared,
        "findings": rows,
    }
    return Answer((parsed, findings, compared), answer, rows, FINDING_COLUMNS)


def _print(parsed: Any, findings: list[Any], compared: bool, lang: str) -> None:
    from teiten.analyze.phenomena.texts import no_previous

    if not compared:
        click.echo(f"{no_previous(parsed.kind, lang)} ({parsed.previous().label})")
    if not findings:
        click.echo(f"nothing notable found in {parsed.label}")
    body = sum(f.headline for f in findings)
    for i, f in enumerate(findings, 1):
        if i == body + 1:
            click.echo("also detected (the report's appendix):")
        mark = {"one-host": " †one host", "few-hosts": " ‡few hosts"}.get(f.attribution, "")
        click.echo(f"{i}. [{f.kind}{mark}] {f.title[lang]}")
        click.echo(f"   {f.text[lang]}")
        linked = [k["id"] for k in f.knowledge if k["kind"] in ("cve", "malware")][:4]
        if linked:
            click.echo(f"   see: {', '.join(linked)}")
        reasons = f.evidence.get("review", {}).get("not_notable", [])
        if reasons:
            click.echo(f"   not in the report's body: {', '.join(reasons)}")
