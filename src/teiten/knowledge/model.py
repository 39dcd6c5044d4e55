"""What the knowledge base holds: ports, and per port products, malware and CVEs.

Plain frozen values with no I/O; :mod:`teiten.knowledge.loader` builds them from the
curated TOML file and merges links imported from vulnerability feeds.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "PROTOCOLS",
    "Cve",
    "ImportedFeed",
    "KnowledgeBase",
    "Malware",
    "PortKnowledge",
    "Product",
    "has_japanese",
    "normalize_name",
]

PROTOCOLS = ("tcp", "udp")
CVE_ID = re.compile(r"^CVE-(\d{4})-\d{4,19}$")
_CVE_NAMED = re.compile(r"CVE-\d{4}-\d{4,19}")  # a CVE a text names
# A year a text names: 1980-2099, not part of a longer number, a version (1.5.6), a count
# (2,000) or a port (2000/tcp).
_YEAR_NAMED = re.compile(r"(?<![\d.,/])(?:19[89]\d|20\d\d)(?![\d.,/])")
# Kana (hiragana, katakana, half-width katakana) or kanji: what makes a text Japanese.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def has_japanese(text: str) -> bool:
    """Whether ``text`` contains kana or kanji (a ``*_ja`` field must)."""
    return bool(_JAPANESE.search(text))


def normalize_name(text: str) -> str:
    """A name as CPE 2.3 spells it: ``"WebLogic Server"`` → ``weblogic_server``."""
    text = text.replace("\\", "").lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


@dataclass(frozen=True, slots=True)
class Product:
    """A product reached through the port, and how feed entries are linked to it.

    A feed entry links to the product when its vendor is one of ``vendors`` and either
    one of ``keys`` occurs as whole words in its product name, or one of ``keywords``
    occurs as a word in its vulnerability name or description.
    """

    name: str
    vendors: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    name_ja: str = ""

    @property
    def id(self) -> str:
        if self.vendors and self.keys:
            return f"{self.vendors[0]}:{self.keys[0]}"
        return normalize_name(self.name)

    def matches(self, vendor: str, product: str, text: str = "") -> bool:
        """Whether a feed entry (normalised vendor and product, free text) is about it."""
        if vendor not in self.vendors:
            return False
        padded = f"_{product}_"
        if any(f"_{key}_" in padded for key in self.keys):
            return True
        return any(
            re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE)
            for word in self.keywords
        )


@dataclass(frozen=True, slots=True)
class Malware:
    """A malware family spreading through the port. ``reported`` is a date by which it
    had been publicly reported (None when the curated file gives none); ``notes_ja`` is
    ``notes`` written for Japanese readers."""

    name: str
    aliases: tuple[str, ...] = ()
    notes: str = ""
    sources: tuple[str, ...] = ()
    reported: date | None = None
    notes_ja: str = ""

    @property
    def title(self) -> str:
        return f"{self.name} ({', '.join(self.aliases)})" if self.aliases else self.name


@dataclass(frozen=True, slots=True)
class Cve:
    """A CVE linked to the port. ``published`` is the NVD publication date (None when
    only a CISA KEV catalog, which has no such date, linked it); ``disclosed`` the day
    the vendor or a coordinator (JVN, JPCERT/CC) first published it, when that came
    earlier; ``origin`` says who linked it: ``curated``, ``cisa-kev`` or ``nvd``.
    ``title_ja`` describes it for Japanese readers (empty for feed links)."""

    id: str
    title: str
    published: date | None
    product: str | None = None
    sources: tuple[str, ...] = ()
    origin: str = "curated"
    title_ja: str = ""
    disclosed: date | None = None
    advisories: tuple[str, ...] = ()

    @property
    def first_public(self) -> date | None:
        """The day it became public: the earlier of ``disclosed`` and ``published``."""
        days = [d for d in (self.disclosed, self.published) if d is not None]
        return min(days) if days else None

    def sort_key(self) -> tuple[int, str, str]:
        # Newest first, undated last, then by id.
        first = self.first_public
        return (-(first.toordinal() if first else 0), self.id, self.origin)


@dataclass(frozen=True, slots=True)
class PortKnowledge:
    """Everything known about one port of one transport protocol."""

    proto: str
    port: int
    service: str
    summary: str
    references: tuple[str, ...]
    registered: str | None = None
    notes: str = ""
    products: tuple[Product, ...] = ()
    malware: tuple[Malware, ...] = ()
    cves: tuple[Cve, ...] = ()
    summary_ja: str = ""
    notes_ja: str = ""

    @property
    def label(self) -> str:
        return f"{self.port}/{self.proto}"

    @property
    def summary_public(self) -> date | None:
        """The day from which everything the summary names was public (None: it names no
        date): the end of the latest year it names ("in 2023Q1", "2017年"), and for each
        CVE it names, the day that CVE became public (:attr:`Cve.first_public`; one this
        entry does not date, the end of its identifier's year)."""
        texts = f"{self.summary}\n{self.summary_ja}"
        dated = {c.id: c.first_public for c in self.cves}
        days = []
        for cve in _CVE_NAMED.findall(texts):
            public = dated.get(cve)
            days.append(public or date(int(cve[4:8]), 12, 31))
        plain = _CVE_NAMED.sub("", texts)
        days += [date(int(year), 12, 31) for year in _YEAR_NAMED.findall(plain)]
        return max(days, default=None)

    def known_on(self, day: date) -> PortKnowledge:
        """A copy with only what was known on ``day``: CVEs public by then, by the vendor
        or NVD (:attr:`Cve.first_public`; an undated CVE cannot be shown to have been, so
        it is left out), malware reported by then or undated, and the summaries when all
        they name was public by then (:attr:`summary_public`), else none. Products carry
        no date and stay."""
        public = self.summary_public
        later = public is not None and public > day
        return dataclasses.replace(
            self,
            cves=tuple(c for c in self.cves if (f := c.first_public) is not None and f <= day),
            malware=tuple(m for m in self.malware if m.reported is None or m.reported <= day),
            summary="" if later else self.summary,
            summary_ja="" if later else self.summary_ja,
        )

    def items(self) -> list[dict[str, Any]]:
        """CVEs (newest first), then malware, then products, as the rankings contract wants:
        ``published`` is a CVE's NVD publication date or a malware family's ``reported``
        date, ``disclosed`` a CVE's vendor date (None otherwise), ``title_ja`` the Japanese
        title ("" when there is none)."""
        rows: list[dict[str, Any]] = [
            _row("cve", c.id, c.title, c.title_ja, c.published, c.disclosed) for c in self.cves
        ]
        rows += [_row("malware", m.name, m.title, "", m.reported, None) for m in self.malware]
        rows += [_row("product", p.id, p.name, p.name_ja, None, None) for p in self.products]
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "proto": self.proto,
            "port": self.port,
            "service": self.service,
            "registered": self.registered,
            "summary": self.summary,
            "summary_ja": self.summary_ja,
            "notes": self.notes,
            "notes_ja": self.notes_ja,
            "products": [
                {"id": p.id, "name": p.name, "name_ja": p.name_ja, "sources": list(p.sources)}
                for p in self.products
            ],
            "malware": [
                {
                    "name": m.name,
                    "aliases": list(m.aliases),
                    "notes": m.notes,
                    "notes_ja": m.notes_ja,
                    "reported": _iso(m.reported),
                    "sources": list(m.sources),
                }
                for m in self.malware
            ],
            "cves": [
                {
                    "id": c.id,
                    "title": c.title,
                    "title_ja": c.title_ja,
                    "published": _iso(c.published),
                    "disclosed": _iso(c.disclosed),
                    "first_public": _iso(c.first_public),
                    "product": c.product,
                    "origin": c.origin,
                    "advisories": list(c.advisories),
                    "sources": list(c.sources),
                }
                for c in self.cves
            ],
            "references": list(self.references),
        }

    def with_cves(self, extra: Iterable[Cve]) -> PortKnowledge:
        """A copy with ``extra`` CVEs added; a CVE already known keeps its first record,
        except that a dated record replaces an undated one."""
        by_id = {c.id: c for c in self.cves}
        for cve in extra:
            known = by_id.get(cve.id)
            if known is None or (known.published is None and cve.published is not None):
                by_id[cve.id] = cve
        cves = tuple(sorted(by_id.values(), key=Cve.sort_key))
        return dataclasses.replace(self, cves=cves)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _row(
    kind: str, id_: str, title: str, title_ja: str, published: date | None, disclosed: date | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "id": id_,
        "title": title,
        "title_ja": title_ja,
        "published": _iso(published),
        "disclosed": _iso(disclosed),
    }


@dataclass(frozen=True, slots=True)
class ImportedFeed:
    """One feed import merged into the knowledge base (``<store>/knowledge/*.json``)."""

    path: str
    source: str  # "cisa-kev" or "nvd"
    feed: str
    feed_version: str | None
    feed_date: str | None
    links: int
    unlinked: int = 0  # links to ports this edition no longer describes

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class KnowledgeBase:
    """The curated knowledge base, plus any links imported from vulnerability feeds.

    ``kb.for_port("tcp", 37215)`` gives a :class:`PortKnowledge` or None;
    ``kb.items("tcp", 37215)`` the rankings rows ``{"kind", "id", "title", "title_ja",
    "published", "disclosed"}``.
    Both take ``as_of=``: what a publication about a period may cite is what was known on
    the period's last day (:meth:`PortKnowledge.known_on`).
    """

    title: str
    edition: date
    path: str
    entries: Mapping[tuple[str, int], PortKnowledge]
    imports: tuple[ImportedFeed, ...] = field(default=())

    def for_port(
        self, proto: str | None, port: int | None, *, as_of: date | None = None
    ) -> PortKnowledge | None:
        """What is known about ``port``/``proto`` ("tcp", "udp"), or None (also for ICMP
        rows, whose port is None); with ``as_of``, only what was known on that day."""
        if proto is None or port is None:
            return None
        entry = self.entries.get((str(proto).lower(), int(port)))
        return entry.known_on(as_of) if entry is not None and as_of is not None else entry

    def items(
        self, proto: str | None, port: int | None, *, as_of: date | None = None
    ) -> list[dict[str, Any]]:
        """``[{"kind": "cve"|"malware"|"product", "id", "title", "title_ja", "published",
        "disclosed"}]`` for the port: CVEs newest first, then malware, then products; ``[]``
        when nothing is known. ``published`` and ``disclosed`` are ISO date strings or
        None. With ``as_of``, only what was known on that day."""
        entry = self.for_port(proto, port, as_of=as_of)
        return entry.items() if entry else []

    def ports(self) -> list[tuple[str, int]]:
        """Every (proto, port) described, sorted."""
        return sorted(self.entries)

    def __iter__(self) -> Iterator[PortKnowledge]:
        return iter(self.entries[key] for key in self.ports())

    def __len__(self) -> int:
        return len(self.entries)

    def describe(self) -> dict[str, Any]:
        """Edition and provenance, for reports and ``--json`` output."""
        return {
            "title": self.title,
            "edition": self.edition.isoformat(),
            "path": self.path,
            "ports": len(self.entries),
            "imports": [i.as_json() for i in self.imports],
        }
