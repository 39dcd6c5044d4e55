"""`teiten explain PORT[/PROTO]`: what is known about a port."""

from __future__ import annotations

import re
import textwrap
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import click

from teiten.cli.common import (
    emit_json,
    fail_cleanly,
    json_option,
    lang_option,
    main,
    store_option,
)
from teiten.errors import OptionError

_SPEC = re.compile(r"^(\d{1,5})(?:/([A-Za-z]+))?$")
_WIDTH = 96
_TOKEN = re.compile(r"[\x21-\x7e]+|\s+|.")


def parse_port(spec: str) -> tuple[str, int]:
    """``"37215/tcp"`` → ("tcp", 37215); a bare port is TCP."""
    found = _SPEC.match(spec.strip())
    proto = (found[2] or "tcp").lower() if found else ""
    if not found or int(found[1]) > 0xFFFF or proto not in ("tcp", "udp"):
        raise OptionError(
            f"{spec!r} is not a port: give PORT or PORT/PROTO with PORT 0-65535 and PROTO "
            "tcp or udp, e.g. 23, 37215/tcp, 53/udp"
        )
    return proto, int(found[1])


def explain_port(
    proto: str, port: int, store: Path | None = None, as_of: date | None = None
) -> dict[str, Any]:
    """The JSON document ``teiten explain --json`` prints; with ``as_of``, only what was
    known on that day."""
    from teiten.enrich.services import port_registry
    from teiten.knowledge import load_knowledge

    kb = load_knowledge(store=store if store is not None else _default_store())
    entry = kb.for_port(proto, port, as_of=as_of)
    iana = port_registry()
    doc: dict[str, Any] = {
        "proto": proto,
        "port": port,
        "known": entry is not None,
        "service": entry.service if entry else iana.name(proto, port),
        "registered": iana.name(proto, port),
        "knowledge_base": kb.describe(),
        "port_registry": iana.describe(),
        "as_of": as_of.isoformat() if as_of else None,
        "items": entry.items() if entry else [],
    }
    if entry:
        details = entry.as_json()
        del details["proto"], details["port"], details["service"]
        doc.update(details)
    return doc


def _default_store() -> Path | None:
    """$TEITEN_STORE or ./teiten-data when it exists: its imports are merged."""
    from teiten.store.dataset import default_store_path

    root = default_store_path()
    return root if root.is_dir() else None


@main.command()
@click.argument("port_spec", metavar="PORT[/PROTO]")
@click.option(
    "--period",
    help="Only what was known on the period's last day (CVEs public by then, by the vendor "
    "or NVD; malware reported by then), as a report of the period cites it: e.g. 2019Q2, "
    "2019-06-30.",
)
@lang_option("en", "Language of the text: ja prints the descriptions written for Japanese readers.")
@store_option
@json_option
@fail_cleanly
def explain(
    port_spec: str, period: str | None, lang: str, store_dir: Path | None, as_json: bool
) -> None:
    """What is known about a port: service, products, malware, CVEs (with the vendor's and
    NVD's publication dates, and advisories), references.

    PORT[/PROTO] is e.g. 37215/tcp, 23 (TCP) or 53/udp. CVEs imported into the store
    with `teiten knowledge import` are included. --json carries both languages.
    """
    from teiten.analyze.periods import parse_period

    proto, port = parse_port(port_spec)
    as_of = parse_period(period).last_day if period else None
    doc = explain_port(proto, port, store_dir, as_of)
    if as_json:
        emit_json(doc)
    else:
        _print(doc, lang)


_WORDS = {
    "en": {
        "edition": "knowledge base edition {edition}",
        "as_of": ", as known on {day}",
        "unknown": "{label}: {said}.",
        "named": "{name} in {registry}",
        "unnamed": "no name in {registry}",
        "registry": "IANA's port registry (edition {edition})",
        "nothing": "Nothing more is known about this port in the {edition}.",
        "products": "Products:",
        "malware": "Malware:",
        "cves": "CVEs:",
        "references": "References:",
        "vendor": "{disclosed} (vendor), NVD {published}",
        "nvd": "NVD {published}",
        "undated": "(no NVD date)",
        "advisory": "advisory: ",
        "origin": " [from {origin}]",
        "imports": "(includes CVEs linked from {source} {feed}, version {version}, {date})",
    },
    "ja": {
        "edition": "知識ベース {edition} 版",
        "as_of": "（{day} 時点で公開されていた情報）",
        "unknown": "{label}: {said}。",
        "named": "{registry}での名前は {name} です",
        "unnamed": "{registry}に名前はありません",
        "registry": "IANA のポート登録簿（{edition} 版）",
        "nothing": "{edition}には、このポートについてこれ以上の情報はありません。",
        "products": "製品:",
        "malware": "マルウェア:",
        "cves": "脆弱性（CVE）:",
        "references": "参考情報:",
        "vendor": "{disclosed}（ベンダー公表）、NVD {published}",
        "nvd": "NVD {published}",
        "undated": "（NVD の公開日なし）",
        "advisory": "アドバイザリ: ",
        "origin": " [{origin} から取り込み]",
        "imports": "（{source} {feed}（{version} 版、{date}）から取り込んだ CVE を含みます）",
    },
}


def _print(doc: dict[str, Any], lang: str = "en") -> None:
    words = _WORDS[lang]
    ja = lang == "ja"
    kb = doc["knowledge_base"]
    label = f"{doc['port']}/{doc['proto']}"
    edition = words["edition"].format(edition=kb["edition"])
    if doc["as_of"]:
        edition += words["as_of"].format(day=doc["as_of"])
    if not doc["known"]:
        registry = words["registry"].format(edition=doc["port_registry"]["edition"])
        name = doc["registered"]
        said = (
            words["named"].format(name=name, registry=registry)
            if name
            else words["unnamed"].format(registry=registry)
        )
        click.echo(words["unknown"].format(label=label, said=said))
        click.echo(words["nothing"].format(edition=edition))
        return
    head = f"{label}  {doc['service']}"
    if doc["registered"] and doc["registered"] != doc["service"]:
        head += f"  (IANA: {doc['registered']})"
    click.echo(head)
    click.echo(f"{edition}")
    click.echo()
    _wrap(_pick(doc, "summary", ja))
    if doc["notes"]:
        _wrap(_pick(doc, "notes", ja))
    if doc["products"]:
        click.echo("\n" + words["products"])
        for p in doc["products"]:
            _wrap(p["name_ja"] if ja and p["name_ja"] else p["name"], "  - ", "    ")
    if doc["malware"]:
        click.echo("\n" + words["malware"])
        for m in doc["malware"]:
            name = m["name"] + (f" ({', '.join(m['aliases'])})" if m["aliases"] else "")
            notes = _pick(m, "notes", ja)
            _wrap(f"{name}: {notes}" if notes else name, "  - ", "    ")
            for url in m["sources"]:
                click.echo(f"      {url}")
    if doc["cves"]:
        click.echo("\n" + words["cves"])
        for c in doc["cves"]:
            origin = "" if c["origin"] == "curated" else words["origin"].format(origin=c["origin"])
            title = _pick(c, "title", ja)
            _wrap(f"{c['id']}  {_dates(c, words)}  {title}{origin}", "  - ", "    ")
            for url in c["advisories"]:
                click.echo(f"      {words['advisory']}{url}")
            for url in c["sources"]:
                click.echo(f"      {url}")
    click.echo("\n" + words["references"])
    for url in doc["references"]:
        click.echo(f"  - {url}")
    for feed in kb["imports"]:
        click.echo(
            "\n"
            + words["imports"].format(
                source=feed["source"],
                feed=feed["feed"],
                version=feed["feed_version"],
                date=feed["feed_date"],
            )
        )


def _pick(item: dict[str, Any], key: str, ja: bool) -> str:
    """``item[key + "_ja"]`` in Japanese when it has one, else ``item[key]``."""
    text: str = (item.get(f"{key}_ja") or "") if ja else ""
    return text or item[key]


def _dates(cve: dict[str, Any], words: dict[str, str]) -> str:
    """``2019-05-14 (vendor), NVD 2019-05-16``: both dates when the vendor's came first."""
    if cve["disclosed"] and cve["disclosed"] != cve["published"]:
        return words["vendor"].format(disclosed=cve["disclosed"], published=cve["published"])
    if cve["published"]:
        return words["nvd"].format(published=cve["published"])
    return words["undated"]


def _wrap(text: str, first: str = "", rest: str = "") -> None:
    rest = rest or first
    if not any(unicodedata.east_asian_width(ch) in "WF" for ch in text):
        click.echo(textwrap.fill(text, _WIDTH, initial_indent=first, subsequent_indent=rest))
        return
    # Japanese has no spaces to break at: break between characters, counting wide ones
    # as two columns, but never inside a run of Latin letters, digits or a URL.
    lines, line, width = [], first, len(first)
    for token in _TOKEN.findall(text):
        size = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in token)
        if width + size > _WIDTH and line.strip():
            lines.append(line.rstrip())
            line, width = rest, len(rest)
            if token.isspace():
                continue
        line += token
        width += size
    lines.append(line.rstrip())
    click.echo("\n".join(lines))
