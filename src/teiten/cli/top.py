"""`teiten top ports|countries`: rankings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from teiten.cli.common import engine_option, fail_cleanly, main, period_option, store_option
from teiten.cli.filters import packet_filter_options
from teiten.cli.tables import Answer, emit_answer, output_options


def ranking_options(func: Callable[..., Any]) -> Callable[..., Any]:
    from teiten.analyze.rankings import ATTRIBUTION_THRESHOLD, METRICS

    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        store_option,
        engine_option,
        period_option,
        click.option("--limit", default=10, show_default=True, type=click.IntRange(1)),
        click.option("--metric", type=click.Choice(METRICS), default="packets", show_default=True),
        packet_filter_options,
        click.option(
            "--show-tag",
            "show_tags",
            multiple=True,
            metavar="LABEL",
            help="Give the table a column with this tag's share of each row's packets "
            "[default: mirai]; repeatable. --json and --csv always have every share.",
        ),
        click.option(
            "--attribution-threshold",
            type=click.FloatRange(0, 1, min_open=True),
            default=ATTRIBUTION_THRESHOLD,
            show_default=True,
            help="Share of a row's packets from its top source (one-host) or top 3 sources "
            "(few-hosts) that marks the row as made by them rather than broad.",
        ),
        output_options,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@main.group()
def top() -> None:
    """Rank destination ports, source countries or source ASes for a period."""


def _top(dimension: str, **kw: Any) -> None:
    from teiten.cli.output import print_ranking
    from teiten.fingerprint import tag_mask

    tag_mask(kw["show_tags"], "--show-tag")  # an unknown label is a usage error
    answer = top_answer(dimension, **kw)
    emit_answer(answer, kw["output"], lambda r: print_ranking(r, kw["show_tags"] or ("mirai",)))


def top_answer(dimension: str, **kw: Any) -> Answer:
    """The ranking of ``dimension`` ("ports", "countries" or "asns") for the options of
    ``teiten top`` (``store_dir`` and ``engine_name`` included; ``engine``: one to run
    on, lent by the caller)."""
    from teiten.analyze.periods import parse_period
    from teiten.analyze.rankings import Filters, rank
    from teiten.cli.common import answering_engine
    from teiten.cli.filters import check_sensor
    from teiten.store.asn import as_names

    period = parse_period(kw["period"])
    filters = Filters(
        country=kw["country"],
        sensor=kw["sensor"],
        proto=kw["proto"],
        tags=kw["tags"],
        exclude_tags=kw["exclude_tags"],
        asns=kw["asns"],
        prefixes=kw["prefixes"],
    )
    with answering_engine(kw["store_dir"], kw["engine_name"], kw.get("engine")) as engine:
        knowledge = None
        if kw.get("explain"):
            from teiten.knowledge import load_knowledge

            # with the CVE links imported into the store
            knowledge = load_knowledge(store=engine.store.root)
        check_sensor(engine, filters.sensor)
        ranking = rank(
            engine,
            dimension,  # type: ignore[arg-type]
            period,
            metric=kw["metric"],
            traffic=kw["traffic"],
            filters=filters,
            limit=kw["limit"],
            knowledge=knowledge,
            attribution_threshold=kw["attribution_threshold"],
            as_names=as_names(engine.store.root) if dimension == "asns" else None,
        )
    return Answer(ranking, ranking.as_json(), ranking.rows, _columns(ranking))


@top.command("ports")
@ranking_options
@click.option(
    "--explain",
    is_flag=True,
    help="Add what the knowledge base knows about each port (CVEs, malware, products): "
    'a column in the table, a "knowledge" list per row in --json.',
)
@fail_cleanly
def top_ports(**kw: Any) -> None:
    """Top destination ports (ICMP by type), with the previous period's rank."""
    _top("ports", **kw)


@top.command("countries")
@ranking_options
@fail_cleanly
def top_countries(**kw: Any) -> None:
    """Top source countries, with the previous period's rank."""
    _top("countries", **kw)


@top.command("asns")
@ranking_options
@fail_cleanly
def top_asns(**kw: Any) -> None:
    """Top source ASes (autonomous systems), with the previous period's rank."""
    _top("asns", **kw)


_KEY_COLUMNS = {
    "ports": ["proto", "port", "service"],
    "countries": ["country", "name"],
    "asns": ["asn", "name"],
}


def _columns(ranking: Any) -> list[str]:
    """The CSV header of a ranking with no rows (one with rows takes it from them)."""
    keys = _KEY_COLUMNS[ranking.dimension]
    return [
        "rank",
        *keys,
        *("packets", "sources", "per_sensor", "share", "previous_rank"),
        *(f"tag_shares.{label}" for label in ranking.tag_shares),
        *("top_sources_share", "top_source.country", "top_source.tags", "attribution"),
    ]
