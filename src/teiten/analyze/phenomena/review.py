"""From detections to findings: who made each, which are one story, which lead the report.

The detectors say what moved; an analyst asks who moved it, whether it matters and
whether two of them are the same thing. :func:`review` answers in four steps:

1. **Attribution** (:mod:`.attribution`): every detection gets its sources, the share of
   the busiest source and busiest 3, and ``one-host`` / ``few-hosts`` / ``broad``.
2. **Thresholds**: a detection is *notable* when it moves at least ``min_volume`` (2 %)
   of the probes a day (a surge or drop: ``|level − baseline|`` against the window's mean
   daily probes per sensor; an entrant: its share; a focus-country crossover or Mirai
   trend: its share of that country's probes), when half of its packets spread over at
   least ``min_days`` (3) days (a burst is not a trend), when a crossover's 7-day means
   stay crossed at least ``crossover_sustained_days`` (14, or half a shorter period),
   and when it is ``broad``: neither one source nor the busiest 3 (nor one /24) made
   ``attribution_threshold`` (50 %) of it.
3. **Merging**: detections about the same port or country (7001/TCP surging and entering
   the top 5; 52869/TCP rising then stopping), and detections each made mostly by the
   other's sources (``merge_overlap``, 50 % of each one's packets — the 7001 and 7002
   scanning of one campaign; a Dutch ZMap host making both "Netherlands" and "5900/TCP"
   new entrants) become one finding; the others are listed in its ``merged``.
4. **Ranking**: ``score = volume × breadth × significance``, each in [0, 1]: volume
   ``log10(share / 0.1 %) / 2`` (1 % → 0.5, 10 % → 1); breadth ``(1 − busiest source's
   share) × log10(1 + sources) / 2`` (100 sources → full); significance from the
   detector's own statistic (the change's size, a crossover's sustained days, the Mirai
   trend's Mann–Kendall Z) and a CVE published near a change. The ``headlines`` (5) best
   notable findings lead the report; the rest go to its appendix table.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teiten.analyze.periods import Period
from teiten.analyze.phenomena import texts
from teiten.analyze.phenomena.attribution import Contributors, contributors_of, window
from teiten.analyze.phenomena.model import Finding
from teiten.analyze.phenomena.series import day_range, per_sensor, sensors_per_day
from teiten.analyze.phenomena.settings import PhenomenaSettings
from teiten.analyze.rankings import attribution
from teiten.store import queries

if TYPE_CHECKING:
    from teiten.knowledge import KnowledgeBase
    from teiten.store import Engine

__all__ = ["SCAN_COLUMNS", "review", "subject_label"]

_FOCUS_KINDS = ("crossover", "mirai_share")  # measured within the focus country's probes


class _Totals:
    """Daily probes (all, and the focus country's) per sensor over the days reviewed."""

    def __init__(self, engine: Engine, first: date, end: date, country: str) -> None:
        self.first = first
        rows = engine.rows(*queries.series.probes_per_day(country, first, end))
        days = len(day_range(first, end))
        counts = np.zeros((2, days), np.float64)
        for r in rows:
            i = (r["day"] - first).days
            counts[0, i], counts[1, i] = r["probes"], r["country_probes"]
        self.counts = counts
        self.per_sensor = per_sensor(counts[0], sensors_per_day(engine, first, end))

    def _slice(self, first: date, end: date) -> slice:
        return slice((first - self.first).days, (end - self.first).days)

    def probes(self, first: date, end: date, *, focus: bool = False) -> float:
        return float(self.counts[1 if focus else 0, self._slice(first, end)].sum())

    def mean_per_sensor(self, first: date, end: date) -> float:
        values = self.per_sensor[self._slice(first, end)]
        values = values[~np.isnan(values)]
        return float(values.mean()) if values.size else 0.0


def review(
    engine: Engine,
    period: Period,
    found: list[Finding],
    settings: PhenomenaSettings,
    kb: KnowledgeBase,
    *,
    scans: pa.Table | None = None,
) -> list[Finding]:
    """``found``'s detections as findings: attributed, judged, merged and ranked —
    headlines first, then the rest, each by score."""
    if not found:
        return []
    windows = [window(f, period, settings) for f in found]
    totals = _Totals(
        engine,
        min(w[0] for w in windows),
        max(max(w[1] for w in windows), period.end),
        settings.focus_country,
    )
    # a crossover's leader: who made the lead it lost (in the previous period)
    leaders = [i for i, f in enumerate(found) if f.kind == "crossover"]
    previous = period.previous()
    everyone = contributors_of(
        engine,
        [(f, first, end) for f, (first, end) in zip(found, windows, strict=True)]
        + [(_overtaken(found[i]), previous.start, period.start) for i in leaders],
        threshold=settings.attribution_threshold,
    )
    overtaken = dict(zip(leaders, everyone[len(found) :], strict=True))
    behind = _ScanIndex(scans, found)
    judged = []
    for i, (finding, (first, end)) in enumerate(zip(found, windows, strict=True)):
        who = _of_change(finding, everyone[i], settings.attribution_threshold)
        lost_to_few = i in overtaken and overtaken[i].attribution != "broad"
        judged.append(
            _judge(
                finding,
                who,
                (first, end),
                period,
                settings,
                totals,
                context=_context(finding, kb, period),
                scans=behind.of(finding, who, first, end),
                extra=["overtaken-few-hosts"] if lost_to_few else [],
            )
        )
    merged = [_merge(group) for group in _groups(judged, settings)]
    merged.sort(key=lambda j: (-j.finding.notable, -j.finding.score))
    out = []
    for i, j in enumerate(merged):
        headline = j.finding.notable and i < settings.headlines
        out.append(dataclasses.replace(j.finding, headline=headline))
    return out


# What the review reads of every scan event of the period.
SCAN_COLUMNS = ["source", "proto", "port", "country", "start", "packets", "tags"]


class _ScanIndex:
    """The period's scan events (:mod:`teiten.analyze.scans`, as a table), so each finding
    selects its own: the columns are turned into integer arrays once, and a finding's
    events and their figures are a few array operations, whatever the number of events."""

    def __init__(self, scans: pa.Table | None, found: list[Finding]) -> None:
        if scans is not None:
            scans = scans.filter(_of_any(scans, found))
        self.rows = 0 if scans is None else scans.num_rows
        if scans is None or not self.rows:
            return
        start = pc.cast(scans.column("start"), pa.date32()).cast(pa.int32())
        self.day = start.to_numpy()
        self.codes = {c: _codes(scans.column(c)) for c in ("proto", "port", "country")}
        self.source = _codes(scans.column("source"))[1]
        self.packets = scans.column("packets").to_numpy().astype(np.int64)
        tags = scans.column("tags").combine_chunks()
        self.tag_of = pc.list_parent_indices(tags).to_numpy()  # the event of each tag
        names, self.tag = _codes(pc.list_flatten(tags))
        self.tag_names = [n for n, _ in sorted(names.items(), key=lambda x: x[1]) if n]

    def of(self, f: Finding, who: Contributors, first: date, end: date) -> dict[str, Any]:
        """The scan events behind ``f``: on its port (from its country, for a focus-country
        crossover) or from its country, starting in its window — how many, from how many
        sources, the share of its packets they hold, and their tools. Events of the period
        only: a window reaching before it counts none of those days' events."""
        mask = self._select(f.kind, f.port(), f.subject.get("country"), first, end)
        if mask is None or not mask.any():
            events = sources = packets = 0
            tools: dict[str, int] = {}
        else:
            events = int(mask.sum())
            sources = len(np.unique(self.source[mask]))
            packets = int(self.packets[mask].sum())
            counts = np.bincount(self.tag[mask[self.tag_of]], minlength=len(self.tag_names))
            tools = {n: int(c) for n, c in zip(self.tag_names, counts, strict=True) if c}
        return {
            "events": events,
            "sources": sources,
            "share": round(min(1.0, packets / who.packets), 6) if who.packets else 0.0,
            "tools": dict(sorted(tools.items())),
        }

    def _select(
        self, kind: str, at: tuple[str, int] | None, country: Any, first: date, end: date
    ) -> np.ndarray | None:
        """Which events are of ``at`` (and ``country``, for a crossover) or of ``country``,
        starting in ``first`` … ``end``; None for a share or when there are none."""
        if not self.rows or kind == "mirai_share":
            return None
        if at is not None:
            mask = self._equal("proto", at[0]) & self._equal("port", at[1])
            if kind == "crossover":
                mask &= self._equal("country", country)
        else:
            mask = self._equal("country", country)
        epoch = date(1970, 1, 1)
        return mask & (self.day >= (first - epoch).days) & (self.day < (end - epoch).days)

    def _equal(self, column: str, value: Any) -> np.ndarray:
        """Where ``column`` is ``value`` (where it is null, for None)."""
        values, codes = self.codes[column]
        return codes == values.get(value, -2)


def _of_any(scans: pa.Table, found: list[Finding]) -> pa.ChunkedArray:
    """Which of ``scans`` any of ``found`` may select: those on one of their ports or
    from one of the countries of those without a port (their subset is all the review
    reads)."""
    ports = {at[1] for f in found if (at := f.port()) is not None}
    countries = {f.subject.get("country") for f in found if f.port() is None}
    port, country = scans.column("port"), scans.column("country")
    wanted = pc.is_in(port, value_set=pa.array(sorted(ports), port.type))
    named = sorted(c for c in countries if c is not None)
    wanted = pc.or_(wanted, pc.is_in(country, value_set=pa.array(named, country.type)))
    if None in countries:
        wanted = pc.or_(wanted, pc.is_null(country))
    return pc.fill_null(wanted, False)


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[dict[Any, int], np.ndarray]:
    """A column as integer codes (null: -1) and the code of each value."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    encoded = pc.dictionary_encode(column)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    values = {v: i for i, v in enumerate(encoded.dictionary.to_pylist())}
    return {**values, None: -1}, codes


def _overtaken(f: Finding) -> Finding:
    """A crossover turned to its falling port (whose packets made the lead it lost)."""
    return dataclasses.replace(f, subject={**f.subject, "rising": f.subject["falling"]})


def _of_change(f: Finding, who: Contributors, threshold: float) -> Contributors:
    """For a surge or a drop, the busiest sources' shares of the *change*: the packets
    above the baseline (a surge) or the share of the baseline that went away (a drop).
    An upper bound (all of a busy source's packets are counted as change), so a surge
    that 3 new scanners made reads "few-hosts" even among 400 steady sources."""
    if f.kind not in ("surge", "drop") or not who.packets:
        return who
    base, level = float(f.evidence["baseline"]), float(f.evidence["level"])
    if f.kind == "surge":
        part = 1 - base / level if level > 0 else 1.0
    else:
        part = 1 - level / base if base > 0 else 1.0
    part = max(part, 1e-9)
    shares = [min(1.0, round(share / part, 6)) for share in who.top_sources_share]
    network = min(1.0, round(who.top_network_share / part, 6))
    label = attribution(shares, threshold)
    if label == "broad" and network >= threshold:
        label = "few-hosts"
    return dataclasses.replace(
        who, top_sources_share=shares, top_network_share=network, attribution=label
    )


@dataclasses.dataclass
class _Judged:
    finding: Finding
    who: Contributors


def _judge(
    f: Finding,
    who: Contributors,
    span: tuple[date, date],
    period: Period,
    settings: PhenomenaSettings,
    totals: _Totals,
    *,
    context: dict[str, str],
    scans: dict[str, Any],
    extra: list[str],
) -> _Judged:
    """``f`` with its review: thresholds met or not (``extra``: reasons found elsewhere),
    score, own span, who made it, and its text completed."""
    first, end = span
    volume = _volume(f, who, first, end, totals)
    significance = _significance(f, period)
    breadth = (1 - who.top_sources_share[0]) * min(1.0, math.log10(1 + who.sources) / 2)
    volume_term = min(1.0, max(0.0, math.log10(max(volume, 1e-9) / 0.001) / 2))
    period_days = (period.end - period.start).days
    spread = _half_mass_days(who)
    reasons = []
    if volume < settings.min_volume:
        reasons.append("volume")
    if spread < min(settings.min_days, period_days):
        reasons.append("burst")
    if who.attribution != "broad":  # "one-host" or "few-hosts": not a trend of many
        reasons.append(who.attribution)
    if f.kind == "crossover":
        held = _sustained_days(f, period)
        if held < min(settings.crossover_sustained_days, math.ceil(period_days / 2)):
            reasons.append("not-sustained")
    reasons += extra
    start, last = _span(f, who, first, end)
    evidence = f.evidence | {
        "review": {
            "window": [first.isoformat(), (end - timedelta(days=1)).isoformat()],
            "volume": round(volume, 6),
            "half_mass_days": spread,
            "top_network_share": who.top_network_share,
            "score_terms": {
                "volume": round(volume_term, 4),
                "breadth": round(breadth, 4),
                "significance": round(significance, 4),
            },
            "not_notable": reasons,
            "scan_events": scans,
            "thresholds": {
                "min_volume": settings.min_volume,
                "min_days": settings.min_days,
                "attribution_threshold": settings.attribution_threshold,
                "crossover_sustained_days": settings.crossover_sustained_days,
                "merge_overlap": settings.merge_overlap,
            },
        }
    }
    text = {
        lang: _add(
            _add(_add(f.text[lang], texts.attribution(who, lang, f.kind)), context[lang]),
            texts.scans(scans, lang),
        )
        for lang in texts.LANGS
    }
    return _Judged(
        dataclasses.replace(
            f,
            text=text,
            evidence=evidence,
            score=round(volume_term * breadth * significance, 6),
            start=start,
            end=last,
            sources=who.sources,
            top_sources_share=who.top_sources_share,
            top_source=who.top_source,
            attribution=who.attribution,
            notable=not reasons,
        ),
        who,
    )


def _context(f: Finding, kb: KnowledgeBase, period: Period) -> dict[str, str]:
    """What the finding's port is and which malware uses it, as known at the period's end."""
    at = f.port()
    entry = None if at is None else kb.for_port(at[0], at[1], as_of=period.last_day)
    return {lang: texts.port_context(entry, lang) for lang in texts.LANGS}


def _add(text: str, sentence: str) -> str:
    if not sentence:
        return text
    return f"{text}{sentence}" if texts.is_japanese(text) else f"{text} {sentence}"


def _volume(f: Finding, who: Contributors, first: date, end: date, totals: _Totals) -> float:
    """The share of the probes the finding moves (see the module's docstring)."""
    ev = f.evidence
    if f.kind in ("surge", "drop"):
        mean = totals.mean_per_sensor(first, end)  # a drop's window: the days before it
        return abs(float(ev["level"]) - float(ev["baseline"])) / mean if mean else 0.0
    if f.kind == "new_entrant":
        return float(ev["share"])
    if f.kind == "mirai_share":
        return abs(float(ev["end_share"]) - float(ev["start_share"]))
    focus = totals.probes(first, end, focus=f.kind in _FOCUS_KINDS)
    return who.packets / focus if focus else 0.0


def _significance(f: Finding, period: Period) -> float:
    """How sure and how large, by the detector's own statistic, in [0, 1]."""
    ev = f.evidence
    if f.kind in ("surge", "drop"):
        ratio = ev.get("ratio")
        if f.kind == "surge" and ratio is None:  # from nothing
            size = 1.0
        else:
            r = float(ratio) if ratio else 0.0
            size = min(abs(math.log2(max(r, 1 / 64))), 3.0) / 3
        near = any(k.get("near_change") for k in f.knowledge)
        return min(1.0, max(size, 1 / 3) + (0.25 if near else 0.0))
    if f.kind == "new_entrant":
        top = int(ev["threshold"]["top_n"])
        return 0.6 + 0.4 * (top - int(ev["rank"]) + 1) / top
    if f.kind == "crossover":
        days = (period.end - period.start).days
        return min(1.0, 0.3 + _sustained_days(f, period) / days)
    if f.kind == "mirai_share":
        return min(1.0, abs(float(ev["statistic"]["mann_kendall_z"])) / 6)
    return 0.5


def _sustained_days(f: Finding, period: Period) -> int:
    """Days to the period's end on which a crossover's 7-day means stayed crossed."""
    since = f.evidence.get("sustained_from")
    if not since:
        return 0
    return (period.end - max(date.fromisoformat(since), period.start)).days


def _half_mass_days(who: Contributors) -> int:
    """The fewest days holding half of the finding's packets (1 for a one-day burst)."""
    counts = np.sort(np.asarray(who.daily, np.float64))[::-1]
    if not counts.size or counts.sum() <= 0:
        return 0
    return int(np.searchsorted(np.cumsum(counts), counts.sum() / 2) + 1)


def _span(f: Finding, who: Contributors, first: date, end: date) -> tuple[str | None, str | None]:
    """The finding's own first and last day: a change's date and last deviating day;
    otherwise the first and last day its packets were seen in the window."""
    ev = f.evidence
    if f.kind in ("surge", "drop"):
        return ev["change_date"], ev.get("last_day")
    if f.kind == "crossover":
        return ev["first_day"], (end - timedelta(days=1)).isoformat()
    if who.first is None or who.last is None:
        return first.isoformat(), (end - timedelta(days=1)).isoformat()
    return who.first.isoformat(), who.last.isoformat()


def _same_subject(a: Finding, b: Finding) -> bool:
    plain = ("surge", "drop", "new_entrant")
    return a.kind in plain and b.kind in plain and a.subject == b.subject


def _overlap(a: Contributors, b: Contributors) -> float:
    """The share of ``a``'s packets sent by sources also among ``b``'s busiest."""
    if not a.packets:
        return 0.0
    return sum(n for src, n in a.weights.items() if src in b.weights) / a.packets


def _groups(judged: list[_Judged], settings: PhenomenaSettings) -> list[list[_Judged]]:
    """Detections made by the same sources, or about the same subject, grouped (union–find)."""
    parent = list(range(len(judged)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(judged):
        for k in range(i + 1, len(judged)):
            b = judged[k]
            same = _same_subject(a.finding, b.finding)
            shared = min(_overlap(a.who, b.who), _overlap(b.who, a.who))
            if same or shared >= settings.merge_overlap:
                parent[root(k)] = root(i)
    groups: dict[int, list[_Judged]] = {}
    for i, j in enumerate(judged):
        groups.setdefault(root(i), []).append(j)
    return list(groups.values())


_DATED = ("surge", "drop", "crossover", "mirai_share")  # detections with their own dates


def _merge(group: list[_Judged]) -> _Judged:
    """One finding for the group. A change re-detected later is the same change: per
    kind and subject only the earliest is kept (with the best score). The best of those
    leads — notable first, then a dated change over an entrant (it says when), then by
    score; the others are listed in ``merged``, and the finding spans them all."""
    first: dict[tuple[str, str], _Judged] = {}
    for j in sorted(group, key=lambda j: j.finding.start or ""):
        key = (j.finding.kind, repr(j.finding.subject))
        if key not in first:
            first[key] = j
        else:  # the same change again: the earliest, as notable and scored as the best
            kept_one = first[key].finding
            best = dataclasses.replace(
                kept_one,
                score=max(kept_one.score, j.finding.score),
                notable=kept_one.notable or j.finding.notable,
            )
            first[key] = _Judged(best, first[key].who)
    kept = sorted(
        first.values(),
        key=lambda j: (not j.finding.notable, j.finding.kind not in _DATED, -j.finding.score),
    )
    lead, rest = kept[0], sorted(kept[1:], key=lambda j: j.finding.start or "")
    if not rest:
        return lead
    f = lead.finding
    folded = [
        {
            "kind": o.finding.kind,
            "subject": o.finding.subject,
            "start": o.finding.start,
            "title": o.finding.title,
            "same_sources": not _same_subject(f, o.finding),
        }
        for o in rest
    ]
    text = {lang: _add(f.text[lang], texts.merged(folded, lang)) for lang in texts.LANGS}
    knowledge = list(f.knowledge)
    known = {(k["kind"], k["id"]) for k in knowledge}
    for o in rest:
        for k in o.finding.knowledge:
            if (k["kind"], k["id"]) not in known:
                known.add((k["kind"], k["id"]))
                knowledge.append(k)
    dated = [j for j in group if j.finding.kind in _DATED] or group  # an entrant's "start"
    starts = [j.finding.start for j in dated if j.finding.start]  # is only the period's
    ends = [j.finding.end for j in group if j.finding.end]
    merged = dataclasses.replace(
        f,
        text=text,
        merged=folded,
        knowledge=knowledge,
        start=min(starts) if starts else f.start,
        end=max(ends) if ends else f.end,
    )
    return _Judged(merged, lead.who)


def subject_label(f: Finding, lang: str) -> str:
    """What a finding is about, as a table cell: ``7001/TCP``, 「日本」."""
    return texts.subject(f.kind, f.subject, lang)
