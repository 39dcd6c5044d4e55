"""How findings are worded, in Japanese and English.

Sentences follow the style of Japanese fixed-point observation reports
(「…宛てのパケットが増加しました」, 「TOP10外」, 2019年5月14日); the English says the
same thing, not a word-by-word rendering.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from teiten import numbers
from teiten.enrich import country_name, service_name

if TYPE_CHECKING:
    from teiten.analyze.phenomena.attribution import Contributors
    from teiten.knowledge import PortKnowledge

__all__ = [
    "LANGS",
    "attribution",
    "country",
    "cve",
    "day",
    "days",
    "is_japanese",
    "level",
    "merged",
    "no_previous",
    "per_sensor",
    "port",
    "port_context",
    "previous",
    "ratio",
    "scans",
    "share",
    "subject",
    "tools",
]

LANGS = ("ja", "en")


def day(d: date, lang: str) -> str:
    """A date as the language writes it: 2019年5月14日 / May 14, 2019."""
    if lang == "ja":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d:%B} {d.day}, {d.year}"


def port(proto: str, number: int, lang: str, *, service: bool = True) -> str:
    """``3389/TCP`` and, when known, its service: ``3389/TCP（ms-wbt-server）``."""
    label = f"{number}/{proto.upper()}"
    name = service_name(proto, number) if service else None
    if not name:
        return label
    return f"{label}（{name}）" if lang == "ja" else f"{label} ({name})"


def country(code: str, lang: str) -> str:
    """A country's name in the language (the code when unknown)."""
    return country_name(code, lang) or code


def share(fraction: float) -> str:
    """A share as the report's tables write it (one decimal): ``7.5%``."""
    return numbers.percent(fraction)


def per_sensor(value: float) -> str:
    """Packets per sensor as the tables write them: ``38,298``, below 10 ``7.3``."""
    return numbers.per_sensor(value)


def level(fraction: float) -> str:
    """A level against an earlier one, approximate (after 約 / about): ``40%``."""
    return f"{fraction * 100:.0f}%"


def ratio(value: float) -> str:
    return f"{value:.1f}"


_PREVIOUS = {
    "quarter": ("前四半期", "the previous quarter"),
    "month": ("前月", "the previous month"),
    "week": ("前週", "the previous week"),
    "day": ("前日", "the previous day"),
    "year": ("前年", "the previous year"),
}


def previous(kind: str, lang: str) -> str:
    """The period before, by its calendar name: 前四半期 / the previous quarter."""
    ja, en = _PREVIOUS.get(kind, ("前期間", "the previous period"))
    return ja if lang == "ja" else en


def no_previous(kind: str, lang: str) -> str:
    """Why there are no new entrants in a store's first period."""
    if lang == "ja":
        return f"{previous(kind, 'ja')}のデータがないため比較できません。"
    return f"No data for {previous(kind, 'en')}: no comparison."


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def is_japanese(text: str) -> bool:
    """Whether ``text`` has kana or kanji (joins sentences without a space)."""
    return bool(_JAPANESE.search(text))


def days(first: date, last: date, lang: str) -> str:
    """A span of days, short: 4月18日 / April 18; 6月27日〜29日 / June 27–29."""
    if first == last:
        return f"{first.month}月{first.day}日" if lang == "ja" else f"{first:%B} {first.day}"
    if lang == "ja":
        tail = f"{last.day}日" if last.month == first.month else f"{last.month}月{last.day}日"
        return f"{first.month}月{first.day}日〜{tail}"
    tail = f"{last.day}" if last.month == first.month else f"{last:%B} {last.day}"
    return f"{first:%B} {first.day}–{tail}"


_TOOLS = {
    "zmap": ("ZMap", "ZMap"),
    "masscan": ("Masscan", "Masscan"),
    "mirai": ("Mirai型", "Mirai-type"),
    "research": ("調査目的のスキャナー", "a research scanner"),
}


def tools(tags: list[str], lang: str) -> str:
    """The tools a source's tags name, joined: ``ZMap``, 「Mirai型」."""
    names = [_TOOLS[t][0 if lang == "ja" else 1] for t in tags if t in _TOOLS]
    return ("・" if lang == "ja" else ", ").join(names)


_CHANGE = {"surge": ("増加", "increase"), "drop": ("減少", "decrease")}


def attribution(who: Contributors, lang: str, kind: str = "") -> str:
    """Who made a finding, in one sentence: one host, a few, one network, or many. For a
    surge or a drop the shares are of the change (:func:`.review._of_change`)."""
    if not who.packets:
        return ""
    top1, top3 = who.top_sources_share
    src = who.top_source
    where = country(src["country"], lang) if src.get("country") else ""
    tool = tools(src.get("tags", []), lang)
    when = days(date.fromisoformat(src["first"]), date.fromisoformat(src["last"]), lang)
    change = _CHANGE.get(kind)
    if lang == "ja":
        of = f"この{change[0]}分の最大" if change else "これらのパケットの"
    else:
        of = f"up to {{share}} of the {change[1]}" if change else "{share} of these packets"
    if who.attribution == "one-host":
        if lang == "ja":
            host = f"{where}の1つの送信元" + (f"（{tool}）" if tool else "")
            return (
                f"ただし、{of}{share(top1)}は{host}が{when}に送ったもので、"
                "広がりのある傾向ではなく1ホストの活動です。"
            )
        host = f"one host in {where}" + (f" ({tool})" if tool else "") if where else "one host"
        lead = of.format(share=share(top1))
        return (
            f"However, {lead} came from {host} on {when}: the activity of one host, not a "
            "broad trend."
        )
    if who.attribution == "few-hosts":
        if top3 >= who.top_network_share:
            if lang == "ja":
                return f"{of}{share(top3)}は上位3つの送信元によるものです（最多は{where}）。"
            lead = of.format(share=share(top3))
            return f"{lead[0].upper()}{lead[1:]} came from 3 hosts (the busiest in {where})."
        net = share(who.top_network_share)
        if lang == "ja":
            return f"{of}{net}は1つの/24ネットワーク内の送信元によるものです。"
        lead = of.format(share=net)
        return f"{lead[0].upper()}{lead[1:]} came from hosts in one /24 network."
    n = numbers.count(who.sources)
    if lang == "ja":
        if change:
            return (
                f"送信元は{n}件で、最も多い送信元の寄与もこの{change[0]}分の{share(top1)}以下です。"
            )
        return f"送信元は{n}件で、最も多い送信元でも{share(top1)}にとどまります。"
    if change:
        return (
            f"They came from {n} sources; the busiest accounts for at most {share(top1)} of "
            f"the {change[1]}."
        )
    return f"They came from {n} sources; the busiest sent {share(top1)}."


def subject(kind: str, about: dict[str, Any], lang: str) -> str:
    """What a finding is about, short: ``7001/TCP``, 「日本」, 「日本・445/TCP」."""
    if kind == "crossover":
        rising = str(about["rising"]).split("/")
        label = f"{rising[0]}/{rising[1].upper()}"
        return f"{country(about['country'], lang)}{'・' if lang == 'ja' else ', '}{label}"
    if kind == "mirai_share":
        tag = "Mirai型" if lang == "ja" else "Mirai-type"
        return f"{country(about['country'], lang)}{'・' if lang == 'ja' else ', '}{tag}"
    if "port" in about:
        return f"{about['port']}/{str(about['proto']).upper()}"
    return country(about["country"], lang)


def merged(folded: list[dict[str, Any]], lang: str) -> str:
    """The sentence naming what was folded into a finding (same sources, same subject)."""
    same = [f for f in folded if f["same_sources"]]
    also = [f for f in folded if not f["same_sources"]]
    out = []
    if same:
        items = [_folded(f, lang) for f in same]
        if lang == "ja":
            out.append(
                f"同じ送信元による{'、'.join(items)}も、同じ一連の活動としてまとめています。"
            )
        else:
            out.append(f"Made by the same sources, {'; '.join(items)} is folded into this finding.")
    if also:
        items = [_folded(f, lang) for f in also]
        if lang == "ja":
            out.append(f"同じ対象について{'、'.join(items)}も検出されています。")
        else:
            out.append(f"For the same subject, {'; '.join(items)} was also detected.")
    return "".join(out) if lang == "ja" else " ".join(out)


def _folded(f: dict[str, Any], lang: str) -> str:
    title = f["title"][lang]
    if lang == "en":
        title = title[0].lower() + title[1:]
    if not f.get("start") or f["kind"] == "new_entrant":  # an entrant has no date of its own
        return title if lang == "en" else f"「{title}」"
    since = day(date.fromisoformat(f["start"]), lang)
    return f"「{title}」（{since}〜）" if lang == "ja" else f"{title} (from {since})"


def cve(item: dict[str, Any], lang: str) -> str:
    """A CVE with its title and dates: the vendor's disclosure and NVD's publication."""
    title = (item.get("title_ja") or item["title"]) if lang == "ja" else item["title"]
    nvd = date.fromisoformat(item["published"])
    vendor = date.fromisoformat(item["disclosed"]) if item.get("disclosed") else None
    if lang == "ja":
        if vendor and vendor != nvd:
            when = f"{day(vendor, 'ja')}公表、NVD公開は{day(nvd, 'ja')}"
        else:
            when = f"{day(nvd, 'ja')}公開"
        return f"{item['id']}（{title}、{when}）"
    if vendor and vendor != nvd:
        when = f"disclosed {day(vendor, 'en')}, NVD {day(nvd, 'en')}"
    else:
        when = f"published {day(nvd, 'en')}"
    return f"{item['id']} ({title}; {when})"


def port_context(entry: PortKnowledge | None, lang: str) -> str:
    """What the port is and which malware spreads through it (the knowledge base's words)."""
    if entry is None:
        return ""
    summary = (getattr(entry, "summary_ja", "") or "") if lang == "ja" else entry.summary
    names = [m.name for m in entry.malware]
    if lang == "ja":
        out = summary if summary else ""
        if names:
            out += f"このポートを狙うマルウェアとして{'、'.join(names)}が知られています。"
        return out
    out = summary
    if names:
        out += f"{' ' if out else ''}Malware known to use it: {', '.join(names)}."
    return out


def scans(behind: dict[str, Any], lang: str) -> str:
    """The scan events behind a finding, in one sentence ("" when none)."""
    if not behind.get("events"):
        return ""
    n, sources = numbers.count(behind["events"]), numbers.count(behind["sources"])
    held = share(behind["share"])
    if lang == "ja":
        return (
            f"この期間のスキャン{n}件（送信元{sources}件）が、これらのパケットの{held}を占めます。"
        )
    events = "scan event" if behind["events"] == 1 else "scan events"
    senders = "source" if behind["sources"] == 1 else "sources"
    verb = "holds" if behind["events"] == 1 else "hold"
    return f"{n} {events} from {sources} {senders} {verb} {held} of these packets."
