"""New entrants: this period's top N whose previous rank was outside the top 10 (or none).

Only when there is a previous period to compare with: when the store has no
packet at all in the previous period (a store's first period), every row would
be "outside the top 10" and none of them is an entrant — there are no entrant
findings, and the report and the CLI say the comparison could not be made. A
previous period the store covers only in part (it began during it) is compared:
its ranks are those of the days it has, which a partial period still ranks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from teiten.analyze.periods import Period
from teiten.analyze.phenomena import texts
from teiten.analyze.phenomena.links import port_knowledge
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.analyze.rankings import rank
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.knowledge import KnowledgeBase
    from teiten.store import Engine

__all__ = ["new_entrants", "previous_observed"]


def previous_observed(engine: Engine, period: Period) -> bool:
    """Whether the store has any packet in the period before ``period``."""
    previous = period.previous()
    return bool(engine.rows(*queries.holdings.has_rows("sources", previous.start, previous.end)))


def new_entrants(
    engine: Engine, period: Period, settings: PhenomenaSettings, kb: KnowledgeBase
) -> list[Finding]:
    """Ports and countries that entered the top N from outside the previous top 10
    (none when the previous period has no data: nothing to compare with)."""
    if not previous_observed(engine, period):
        return []
    found = []
    for dimension in ("ports", "countries"):
        ranking = rank(engine, dimension, period, metric=settings.metric, limit=settings.top_n)
        for row in ranking.rows:
            before = row["previous_rank"]
            if before is not None and before <= settings.outside_rank:
                continue
            if dimension == "ports" and row["port"] is None:
                continue  # ICMP types are not "ports" in a report's sense
            found.append(_finding(dimension, row, before, period, settings, kb))
    return found


def _finding(
    dimension: str,
    row: dict[str, Any],
    before: int | None,
    period: Period,
    settings: PhenomenaSettings,
    kb: KnowledgeBase,
) -> Finding:
    if dimension == "ports":
        subject: dict[str, Any] = {"proto": row["proto"], "port": row["port"]}
        names = {lang: texts.port(row["proto"], row["port"], lang) for lang in texts.LANGS}
        knowledge = port_knowledge(kb, row["proto"], row["port"], settings, until=period.last_day)
        ja_what, en_what = f"{names['ja']}宛てのパケット", f"Packets to {names['en']}"
    else:
        subject = {"country": row["country"]}
        names = {lang: texts.country(row["country"], lang) for lang in texts.LANGS}
        knowledge = []
        ja_what, en_what = f"{names['ja']}からのパケット", f"Packets from {names['en']}"
    outside = settings.outside_rank
    if before is None:
        ja_before, en_before = (
            f"{texts.previous(period.kind, 'ja')}には観測されていなかった",
            f"not seen at all in {texts.previous(period.kind, 'en')}",
        )
    else:
        ja_before = f"{texts.previous(period.kind, 'ja')}はTOP{outside}外（{before}位）だった"
        en_before = (
            f"outside the top {outside} of {texts.previous(period.kind, 'en')} (rank {before})"
        )
    rank_now = row["rank"]
    return Finding(
        kind="new_entrant",
        subject=subject,
        title={
            "ja": f"{names['ja']}が上位{settings.top_n}位に新たに入りました",
            "en": f"{names['en']} entered the top {settings.top_n}",
        },
        text={
            "ja": f"{ja_what}が、{ja_before}ところから{rank_now}位に入りました"
            f"（全体の{texts.share(row['share'])}）。",
            "en": f"{en_what} ranked {rank_now} in {period.label} "
            f"({texts.share(row['share'])} of all packets); they were {en_before}.",
        },
        evidence={
            "rank": rank_now,
            "previous_rank": before,
            "share": row["share"],
            "metric": settings.metric,
            "threshold": {"top_n": settings.top_n, "outside_rank": outside},
        },
        knowledge=knowledge,
        score=4.5 + (settings.top_n - rank_now + 1) / settings.top_n / 2,
    )
