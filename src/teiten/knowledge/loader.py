"""Load and validate the knowledge base, and merge the links imported into a store.

The curated file is strict: an unknown protocol or field, a missing field, a date that
is not a TOML date, a malformed CVE id or URL, a ``*_ja`` text without kana or kanji is
a :class:`KnowledgeError` naming the file, the line, the entry (``37215/tcp``) and the
field (``cve[0].published``).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn, TypedDict

from teiten.errors import KnowledgeError
from teiten.knowledge.model import (
    CVE_ID,
    PROTOCOLS,
    Cve,
    ImportedFeed,
    KnowledgeBase,
    Malware,
    PortKnowledge,
    Product,
    has_japanese,
)

__all__ = ["IMPORT_FORMAT", "PACKAGED_FILE", "load_knowledge", "parse_knowledge"]

PACKAGED_FILE = "ports.toml"
IMPORT_FORMAT = "teiten-knowledge-import"
IMPORT_GLOB = "imported-*.json"

_TOP_FIELDS = {"title": True, "edition": True}  # name -> required
_PORT_FIELDS = {
    "service": True,
    "summary": True,
    "summary_ja": True,
    "references": True,
    "registered": False,
    "notes": False,
    "notes_ja": False,
    "product": False,
    "malware": False,
    "cve": False,
}
_PRODUCT_FIELDS = {
    "name": True,
    "vendor": False,
    "match": False,
    "keywords": False,
    "sources": False,
    "name_ja": False,
}
_MALWARE_FIELDS = {
    "name": True,
    "sources": True,
    "aliases": False,
    "notes": False,
    "notes_ja": False,  # required when notes are given
    "reported": False,
}
_CVE_FIELDS = {
    "id": True,
    "title": True,
    "title_ja": True,
    "published": True,
    "sources": True,
    "product": False,
    "disclosed": False,
    "advisories": False,
}
_URL = re.compile(r"^https?://\S+$")
_HTTPS = re.compile(r"^https://\S+$")
_NAME = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")


# ------------------------------------------------------------------ line numbers


class _Lines:
    """Where tables and keys are in the TOML text, to point errors at a line.

    tomllib returns no positions, so this scans ``[tcp.23]`` / ``[[tcp.23.cve]]``
    headers and ``key =`` lines; keys written any other way just get no line.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self._at: dict[tuple[tuple[str, ...], int | None, str | None], int] = {}
        counts: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        index: int | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = tuple(part.strip().strip("\"'") for part in header[2].split("."))
                if header[1] == "[[":
                    index = counts.get(table, 0)
                    counts[table] = index + 1
                else:
                    index = None
                self._at.setdefault((table, index, None), number)
                continue
            key = self._KEY.match(line)
            if key:
                self._at.setdefault((table, index, key[1]), number)

    def find(
        self, table: tuple[str, ...], index: int | None = None, key: str | None = None
    ) -> int | None:
        return self._at.get((table, index, key)) or self._at.get((table, index, None))


# ------------------------------------------------------------------ the curated file


def parse_knowledge(text: str, path: str) -> KnowledgeBase:
    """Build a :class:`KnowledgeBase` from the text of a knowledge TOML file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(path, f"not valid TOML: {exc}", line=_toml_line(exc)) from exc
    lines = _Lines(text)

    def fail(
        message: str,
        *,
        table: Iterable[str] = (),
        index: int | None = None,
        key: str | None = None,
        entry: str | None = None,
        field: str | None = None,
    ) -> NoReturn:
        raise KnowledgeError(
            path,
            message,
            line=lines.find(tuple(table), index, key),
            entry=entry,
            field=field,
        )

    for name in data:
        if name not in _TOP_FIELDS and name not in PROTOCOLS:
            if isinstance(data[name], dict):
                fail(
                    f"unknown protocol {name!r}; entries are [tcp.PORT] or [udp.PORT]",
                    table=(name, *list(data[name])[:1]),
                    entry=name,
                    field="proto",
                )
            fail(f"unknown top-level field {name!r}", key=name, field=name)
    for name, required in _TOP_FIELDS.items():
        if required and name not in data:
            fail(f"missing; the file needs a {name} = ... line at the top", field=name)
    title = data["title"]
    if not isinstance(title, str) or not title.strip():
        fail("must be a non-empty string", key="title", field="title")
    edition = data["edition"]
    if not _is_date(edition):
        fail(
            f"must be a TOML date such as 2026-11-28, got {edition!r}",
            key="edition",
            field="edition",
        )

    entries: dict[tuple[str, int], PortKnowledge] = {}
    for proto in PROTOCOLS:
        ports = data.get(proto, {})
        if not isinstance(ports, dict):
            fail("must be a table of ports", key=proto, field=proto)
        for port_key, raw in ports.items():
            label = f"{port_key}/{proto}"
            table = (proto, port_key)
            if not _is_port(port_key):
                fail("the port must be a number 0-65535", table=table, entry=label, field="port")
            if not isinstance(raw, dict):
                fail("must be a table", table=table, entry=label)
            entry = _PortParser(fail, table, label, edition).parse(proto, int(port_key), raw)
            entries[(proto, entry.port)] = entry
    return KnowledgeBase(title=title, edition=edition, path=path, entries=entries)


class _At(TypedDict):
    """Where in a port's table an array item is: ``[[tcp.PORT.<sub>]]`` number ``index``."""

    sub: str
    index: int


class _PortParser:
    """Validates one ``[tcp.PORT]`` table and its product/malware/cve arrays."""

    def __init__(
        self, fail: Callable[..., NoReturn], table: tuple[str, str], label: str, edition: date
    ) -> None:
        self._fail = fail
        self._table = table
        self._label = label
        self._edition = edition

    def error(
        self,
        message: str,
        field: str,
        *,
        sub: str | None = None,
        index: int | None = None,
        key: str | None = None,
    ) -> NoReturn:
        table = (*self._table, sub) if sub else self._table
        self._fail(message, table=table, index=index, key=key, entry=self._label, field=field)

    def parse(self, proto: str, port: int, raw: dict[str, Any]) -> PortKnowledge:
        self._check_fields(raw, _PORT_FIELDS, prefix="")
        registered = raw.get("registered")
        if registered is not None and not self._text(registered):
            self.error("must be a non-empty string", "registered", key="registered")
        for name in ("service", "summary"):
            if not self._text(raw[name]):
                self.error("must be a non-empty string", name, key=name)
        summary_ja = self._japanese(raw["summary_ja"], "summary_ja", key="summary_ja")
        notes = raw.get("notes", "")
        if not isinstance(notes, str):
            self.error("must be a string", "notes", key="notes")
        notes_ja = ""
        if "notes_ja" in raw:
            notes_ja = self._japanese(raw["notes_ja"], "notes_ja", key="notes_ja")
        references = self._urls(raw["references"], "references", key="references")
        products = tuple(
            self._product(i, item) for i, item in enumerate(self._array(raw, "product"))
        )
        malware = tuple(
            self._malware(i, item) for i, item in enumerate(self._array(raw, "malware"))
        )
        cves = [self._cve(i, item) for i, item in enumerate(self._array(raw, "cve"))]
        seen: set[str] = set()
        for i, cve in enumerate(cves):
            if cve.id in seen:
                self.error(
                    f"{cve.id} is listed twice", f"cve[{i}].id", sub="cve", index=i, key="id"
                )
            seen.add(cve.id)
        return PortKnowledge(
            proto=proto,
            port=port,
            service=raw["service"].strip(),
            summary=raw["summary"].strip(),
            references=references,
            registered=registered,
            notes=notes.strip(),
            summary_ja=summary_ja,
            notes_ja=notes_ja,
            products=products,
            malware=malware,
            cves=tuple(sorted(cves, key=Cve.sort_key)),
        )

    def _array(self, raw: dict[str, Any], name: str) -> list[dict[str, Any]]:
        items = raw.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            self.error(f"must be an array of tables ([[{'.'.join(self._table)}.{name}]])", name)
        return items

    def _check_fields(
        self,
        raw: dict[str, Any],
        spec: dict[str, bool],
        *,
        prefix: str,
        sub: str | None = None,
        index: int | None = None,
    ) -> None:
        for name in raw:
            if name not in spec:
                known = ", ".join(spec)
                self.error(
                    f"unknown field (known: {known})", prefix + name, sub=sub, index=index, key=name
                )
        for name, required in spec.items():
            if required and name not in raw:
                self.error("missing", prefix + name, sub=sub, index=index)

    @staticmethod
    def _text(value: Any) -> bool:
        return isinstance(value, str) and bool(value.strip())

    def _japanese(
        self,
        value: Any,
        field: str,
        *,
        sub: str | None = None,
        index: int | None = None,
        key: str | None = None,
    ) -> str:
        """A ``*_ja`` text: a non-empty string written in Japanese (kana or kanji)."""
        if not self._text(value):
            self.error("must be a non-empty string", field, sub=sub, index=index, key=key)
        if not has_japanese(value):
            self.error(
                f"must be Japanese text (kana or kanji) for Japanese readers, got {value!r}",
                field,
                sub=sub,
                index=index,
                key=key,
            )
        return str(value).strip()

    def _strings(
        self,
        value: Any,
        field: str,
        *,
        sub: str | None = None,
        index: int | None = None,
        key: str | None = None,
        pattern: re.Pattern[str] | None = None,
        what: str = "",
    ) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(self._text(v) for v in value):
            self.error(
                "must be an array of non-empty strings", field, sub=sub, index=index, key=key
            )
        for v in value:
            if pattern and not pattern.match(v):
                self.error(f"{v!r} is not {what}", field, sub=sub, index=index, key=key)
        return tuple(v.strip() for v in value)

    def _urls(
        self,
        value: Any,
        field: str,
        *,
        sub: str | None = None,
        index: int | None = None,
        key: str | None = None,
    ) -> tuple[str, ...]:
        urls = self._strings(
            value, field, sub=sub, index=index, key=key, pattern=_URL, what="an http(s) URL"
        )
        if not urls:
            self.error("needs at least one source URL", field, sub=sub, index=index, key=key)
        return urls

    def _product(self, i: int, raw: dict[str, Any]) -> Product:
        at: _At = {"sub": "product", "index": i}
        prefix = f"product[{i}]."
        self._check_fields(raw, _PRODUCT_FIELDS, prefix=prefix, **at)
        if not self._text(raw["name"]):
            self.error("must be a non-empty string", prefix + "name", key="name", **at)
        names = {}
        for name in ("vendor", "match"):
            names[name] = self._strings(
                raw.get(name, []),
                prefix + name,
                key=name,
                pattern=_NAME,
                what="a normalised name like 'weblogic_server'",
                **at,
            )
        keywords = self._strings(raw.get("keywords", []), prefix + "keywords", key="keywords", **at)
        if (names["match"] or keywords) and not names["vendor"]:
            self.error("match/keywords need a vendor list", prefix + "vendor", **at)
        sources: tuple[str, ...] = ()
        if "sources" in raw:
            sources = self._urls(raw["sources"], prefix + "sources", key="sources", **at)
        name_ja = ""
        if "name_ja" in raw:
            name_ja = self._japanese(raw["name_ja"], prefix + "name_ja", key="name_ja", **at)
        return Product(
            name=raw["name"].strip(),
            vendors=names["vendor"],
            keys=names["match"],
            keywords=keywords,
            sources=sources,
            name_ja=name_ja,
        )

    def _malware(self, i: int, raw: dict[str, Any]) -> Malware:
        at: _At = {"sub": "malware", "index": i}
        prefix = f"malware[{i}]."
        self._check_fields(raw, _MALWARE_FIELDS, prefix=prefix, **at)
        if not self._text(raw["name"]):
            self.error("must be a non-empty string", prefix + "name", key="name", **at)
        aliases = self._strings(raw.get("aliases", []), prefix + "aliases", key="aliases", **at)
        notes = raw.get("notes", "")
        if not isinstance(notes, str):
            self.error("must be a string", prefix + "notes", key="notes", **at)
        notes_ja = ""
        if "notes_ja" in raw:
            notes_ja = self._japanese(raw["notes_ja"], prefix + "notes_ja", key="notes_ja", **at)
        elif notes.strip():
            self.error(
                "missing; notes need their Japanese text for Japanese readers (notes_ja = ...)",
                prefix + "notes_ja",
                key="notes",
                **at,
            )
        reported = None
        if "reported" in raw:
            reported = self._date(
                raw["reported"], "reported", prefix, raw["name"], "the date it was reported", at
            )
        sources = self._urls(raw["sources"], prefix + "sources", key="sources", **at)
        return Malware(
            name=raw["name"].strip(),
            aliases=aliases,
            notes=notes.strip(),
            sources=sources,
            reported=reported,
            notes_ja=notes_ja,
        )

    def _date(self, value: Any, key: str, prefix: str, what: str, meaning: str, at: _At) -> date:
        """A TOML date no later than the edition (``what`` names the item in messages)."""
        if not _is_date(value):
            self.error(
                f"{what}: must be {meaning} as a TOML date such as 2018-03-20 (unquoted), "
                f"got {value!r}",
                prefix + key,
                key=key,
                **at,
            )
        if value > self._edition:
            self.error(
                f"{what}: {key} {value} is after the edition date {self._edition}",
                prefix + key,
                key=key,
                **at,
            )
        return value

    def _cve(self, i: int, raw: dict[str, Any]) -> Cve:
        at: _At = {"sub": "cve", "index": i}
        prefix = f"cve[{i}]."
        self._check_fields(raw, _CVE_FIELDS, prefix=prefix, **at)
        cve_id = raw["id"]
        id_match = CVE_ID.match(cve_id) if isinstance(cve_id, str) else None
        if id_match is None:
            self.error(
                f"{cve_id!r} is not a CVE id like CVE-2017-17215", prefix + "id", key="id", **at
            )
        if not self._text(raw["title"]):
            self.error("must be a non-empty string", prefix + "title", key="title", **at)
        published = self._date(
            raw["published"], "published", prefix, cve_id, "the NVD publication date", at
        )
        if int(id_match[1]) > published.year:
            self.error(
                f"{cve_id}: published {published} is before the year in its id",
                prefix + "published",
                key="published",
                **at,
            )
        title_ja = self._japanese(raw["title_ja"], prefix + "title_ja", key="title_ja", **at)
        disclosed = None
        if "disclosed" in raw:
            disclosed = self._date(
                raw["disclosed"],
                "disclosed",
                prefix,
                cve_id,
                "the date the vendor or a coordinator first published it",
                at,
            )
        advisories: tuple[str, ...] = ()
        if "advisories" in raw:
            advisories = self._strings(
                raw["advisories"],
                prefix + "advisories",
                key="advisories",
                pattern=_HTTPS,
                what="an https URL",
                **at,
            )
            if not advisories:
                self.error(
                    "must list at least one URL; leave advisories out when there is none",
                    prefix + "advisories",
                    key="advisories",
                    **at,
                )
        product = raw.get("product")
        if product is not None and not self._text(product):
            self.error("must be a non-empty string", prefix + "product", key="product", **at)
        sources = self._urls(raw["sources"], prefix + "sources", key="sources", **at)
        return Cve(
            id=cve_id,
            title=raw["title"].strip(),
            published=published,
            product=product,
            sources=sources,
            title_ja=title_ja,
            disclosed=disclosed,
            advisories=advisories,
        )


def _is_port(key: str) -> bool:
    return key.isdecimal() and str(int(key)) == key and int(key) <= 0xFFFF


def _is_date(value: Any) -> bool:
    # TOML local dates load as datetime.date; datetimes (a subclass) are not dates here.
    return isinstance(value, date) and type(value) is date


def _toml_line(exc: tomllib.TOMLDecodeError) -> int | None:
    line = getattr(exc, "lineno", None)  # Python 3.14+
    if line is None:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found[1]) if found else None
    return line


# ------------------------------------------------------------------ stored imports


def load_imports(kb: KnowledgeBase, folder: Path) -> KnowledgeBase:
    """``kb`` with the CVE links of every ``imported-*.json`` in ``folder`` merged in."""
    if not folder.is_dir():
        return kb
    entries = dict(kb.entries)
    imports = list(kb.imports)
    for path in sorted(folder.glob(IMPORT_GLOB)):
        doc = _read_import(path)
        extra: dict[tuple[str, int], list[Cve]] = {}
        unlinked = 0
        for link in doc["links"]:
            key = (link["proto"], link["port"])
            if key not in entries:
                unlinked += 1
                continue
            extra.setdefault(key, []).append(
                Cve(
                    id=link["cve"],
                    title=link["title"],
                    published=date.fromisoformat(link["published"]) if link["published"] else None,
                    product=link["product"],
                    sources=tuple(link["sources"]),
                    origin=doc["source"],
                )
            )
        for key, cves in extra.items():
            entries[key] = entries[key].with_cves(cves)
        imports.append(
            ImportedFeed(
                path=str(path),
                source=doc["source"],
                feed=doc["feed"],
                feed_version=doc["feed_version"],
                feed_date=doc["feed_date"],
                links=len(doc["links"]) - unlinked,
                unlinked=unlinked,
            )
        )
    return KnowledgeBase(
        title=kb.title, edition=kb.edition, path=kb.path, entries=entries, imports=tuple(imports)
    )


_IMPORT_FIELDS = {
    "format": str,
    "version": int,
    "source": str,
    "feed": str,
    "feed_version": (str, type(None)),
    "feed_date": (str, type(None)),
    "digest": str,
    "links": list,
}
_LINK_FIELDS = {
    "proto": str,
    "port": int,
    "cve": str,
    "title": str,
    "published": (str, type(None)),
    "product": str,
    "sources": list,
}


def _read_import(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise KnowledgeError(path, f"cannot read: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise KnowledgeError(
            path,
            f"stored import is not JSON ({exc}); delete it and import the feed again",
            line=line,
        ) from exc
    if not isinstance(doc, dict):
        raise KnowledgeError(path, "stored import is not a JSON object")
    _check_types(path, doc, _IMPORT_FIELDS, entry=None, prefix="")
    if doc["format"] != IMPORT_FORMAT or doc["version"] != 1:
        raise KnowledgeError(path, f"not a version-1 {IMPORT_FORMAT} file", field="format")
    if doc["source"] not in ("cisa-kev", "nvd"):
        raise KnowledgeError(path, f"unknown source {doc['source']!r}", field="source")
    for i, link in enumerate(doc["links"]):
        where = f"links[{i}]"
        if not isinstance(link, dict):
            raise KnowledgeError(path, "must be an object", field=where)
        _check_types(path, link, _LINK_FIELDS, entry=link.get("cve"), prefix=where + ".")
        problems = [
            ("proto", link["proto"] in PROTOCOLS, "must be tcp or udp"),
            ("port", 0 <= link["port"] <= 0xFFFF, "must be 0-65535"),
            ("cve", bool(CVE_ID.match(link["cve"])), "is not a CVE id"),
            ("published", _iso_date_or_none(link["published"]), "is not an ISO date"),
            ("sources", all(isinstance(s, str) for s in link["sources"]), "must be strings"),
        ]
        for name, ok, message in problems:
            if not ok:
                raise KnowledgeError(path, message, entry=link["cve"], field=f"{where}.{name}")
    return doc


def _check_types(
    path: Path, doc: dict[str, Any], spec: dict[str, Any], *, entry: str | None, prefix: str
) -> None:
    for name, kind in spec.items():
        if name not in doc:
            raise KnowledgeError(path, "missing", entry=entry, field=prefix + name)
        value = doc[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise KnowledgeError(path, "has the wrong type", entry=entry, field=prefix + name)


def _iso_date_or_none(value: str | None) -> bool:
    if value is None:
        return True
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------ entry point


@cache
def _packaged() -> KnowledgeBase:
    resource = resources.files("teiten.knowledge").joinpath(PACKAGED_FILE)
    return parse_knowledge(resource.read_text(encoding="utf-8"), str(resource))


def load_knowledge(
    path: str | os.PathLike[str] | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
) -> KnowledgeBase:
    """The knowledge base: the packaged curated file (parsed once) or ``path``, plus the
    CVE links imported into ``store`` (``<store>/knowledge/imported-*.json``, merged
    when the store has any; a store without imports is fine).

    Raises :class:`KnowledgeError` naming the file, line, entry and field when a file
    is malformed.
    """
    if path is None:
        kb = _packaged()
    else:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KnowledgeError(path, f"cannot read: {exc.strerror or exc}") from exc
        except UnicodeDecodeError as exc:
            raise KnowledgeError(path, f"not UTF-8 text: {exc}") from exc
        kb = parse_knowledge(text, str(path))
    if store is not None:
        from teiten.store.dataset import default_store_path

        kb = load_imports(kb, default_store_path(store) / "knowledge")
    return kb
