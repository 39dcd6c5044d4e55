"""Recommended actions, derived from a report's headline findings and the knowledge base.

Four kinds, each from a rule a reader can check against the findings it cites:

* ``patch`` — a headline port with CVEs known on the period's last day: apply the fixes
  (one action per port: its products and CVEs, those near the change first);
* ``credentials`` — a headline port that IoT malware spreads through (a malware family of
  the port is Mirai or one of its kin, or the finding is the focus country's Mirai-type
  share): change default passwords, turn off remote login;
* ``expose`` — a headline port with no CVE known (a service worth keeping off the
  Internet: databases, remote administration);
* ``notify`` — a headline finding about infected hosts in the focus country (its
  Mirai-type share, or a port rising from it): tell their owners through their ISPs.

Findings made by one host recommend nothing: one scanner is no reason to act.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from teiten.analyze.phenomena.model import Finding

if TYPE_CHECKING:
    from teiten.knowledge import KnowledgeBase

__all__ = ["Action", "recommend"]

# Malware families that spread through default credentials of embedded devices.
IOT_MALWARE = ("mirai", "satori", "okiru", "hajime", "gafgyt", "bashlite", "mozi", "moobot")
MAX_CVES = 3  # per action, the most relevant first

# {"kind", "ports", "cves", "products", "products_ja", "country", "from"}
Action = dict[str, Any]


def recommend(
    findings: list[Finding], kb: KnowledgeBase, as_of: date, focus_country: str
) -> list[Action]:
    """The actions the headline findings call for, in the order of the findings."""
    actions: dict[str, Action] = {}

    def add(kind: str, finding: Finding, key: str = "", **values: Any) -> None:
        action = actions.setdefault(
            f"{kind}:{key}",
            {
                "kind": kind,
                "ports": [],
                "cves": [],
                "products": [],
                "products_ja": [],
                "country": None,
            },
        )
        action.setdefault("from", []).append(finding.kind)
        for key in ("ports", "cves", "products", "products_ja"):
            for item in values.get(key, []):
                if item not in action[key]:
                    action[key].append(item)
        if values.get("country"):
            action["country"] = values["country"]

    for f in findings:
        if not f.headline or f.attribution == "one-host":
            continue
        if f.kind == "mirai_share" or (
            f.kind == "crossover" and f.subject.get("country") == focus_country
        ):
            add("notify", f, country=focus_country)
        if f.kind == "mirai_share":
            add("credentials", f, ports=["23/tcp"])
        at = f.port()
        if at is None:
            continue
        proto, port = at
        label = f"{port}/{proto}"
        known = kb.for_port(proto, port, as_of=as_of)
        if known is None:
            continue
        cves = sorted(known.cves, key=lambda c: not _near(f, c.id))[:MAX_CVES]
        if cves:
            products = [c.product for c in cves if c.product]
            ja = {p.name: p.name_ja or p.name for p in known.products}
            add(
                "patch",
                f,
                label,  # one action per port: its products and their fixes
                ports=[label],
                cves=[c.id for c in cves],
                products=products,
                products_ja=[ja.get(p, p) for p in products],
            )
        else:
            add("expose", f, ports=[label])
        if any(_iot(m.name, m.aliases) for m in known.malware):
            add("credentials", f, ports=[label])
    order = ("patch", "credentials", "expose", "notify")
    return sorted(actions.values(), key=lambda a: order.index(a["kind"]))  # stable


def _near(f: Finding, cve_id: str) -> bool:
    return any(k.get("id") == cve_id and k.get("near_change") for k in f.knowledge)


def _iot(name: str, aliases: tuple[str, ...]) -> bool:
    names = " ".join((name, *aliases)).lower()
    return any(family in names for family in IOT_MALWARE)
