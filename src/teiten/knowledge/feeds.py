"""Link the CVEs of a downloaded vulnerability feed to ports, and keep them in the store.

Two feed shapes are read, from a file (teiten never fetches them):

* a CISA Known Exploited Vulnerabilities catalog (``known_exploited_vulnerabilities.json``:
  ``catalogVersion``, ``dateReleased``, ``vulnerabilities[]`` with ``cveID``,
  ``vendorProject``, ``product``, ``vulnerabilityName`` ...);
* an NVD CVE API 2.0 response or feed file (``vulnerabilities[].cve`` with ``id``,
  ``published``, ``descriptions`` and CPE 2.3 ``configurations``).

A CVE is linked to a port when one of its (vendor, product) names — KEV's
``vendorProject``/``product``, or the vendor and product fields of the vulnerable CPE
match strings — matches a product the curated knowledge base lists for that port (see
:meth:`teiten.knowledge.model.Product.matches`). The links, with the feed's own version
and date, are written atomically to ``<store>/knowledge/imported-<digest>.json``;
:func:`teiten.knowledge.load_knowledge` merges them. A malformed feed stores nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from teiten.errors import KnowledgeError, StoreError
from teiten.knowledge.loader import IMPORT_FORMAT, load_knowledge
from teiten.knowledge.model import CVE_ID, KnowledgeBase, normalize_name

__all__ = ["Feed", "FeedEntry", "ImportReport", "import_feed", "link_feed", "read_feed"]

KEV_REQUIRED = (
    "cveID",
    "vendorProject",
    "product",
    "vulnerabilityName",
    "dateAdded",
    "shortDescription",
    "requiredAction",
    "dueDate",
)
KEV_CATALOG = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
NVD_DETAIL = "https://nvd.nist.gov/vuln/detail/"
_CPE_SPLIT = re.compile(r"(?<!\\):")
_TITLE_CHARS = 160


@dataclass(frozen=True, slots=True)
class FeedEntry:
    cve: str
    title: str
    published: date | None  # NVD publication date; None for KEV entries
    names: tuple[tuple[str, str], ...]  # normalised (vendor, product) pairs
    text: str  # vulnerability name and description, for keyword matching


@dataclass(frozen=True, slots=True)
class Feed:
    path: str
    source: str  # "cisa-kev" or "nvd"
    version: str | None
    date: str | None
    digest: str
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What ``teiten knowledge import`` did."""

    feed: str
    source: str
    feed_version: str | None
    feed_date: str | None
    entries: int
    stored: str
    replaced: bool
    links: list[dict[str, Any]] = field(default_factory=list)

    def ports(self) -> list[str]:
        return sorted(
            {f"{link['port']}/{link['proto']}" for link in self.links},
            key=lambda p: (p.split("/")[1], int(p.split("/")[0])),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "source": self.source,
            "feed_version": self.feed_version,
            "feed_date": self.feed_date,
            "entries": self.entries,
            "stored": self.stored,
            "replaced": self.replaced,
            "ports": self.ports(),
            "links": self.links,
        }


# ------------------------------------------------------------------ reading feeds


def read_feed(path: str | os.PathLike[str]) -> Feed:
    """Parse and validate a KEV catalog or NVD 2.0 feed; :class:`KnowledgeError` names
    the file, the entry (index and CVE id) and the field when it is malformed."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KnowledgeError(path, f"cannot read: {exc.strerror or exc}") from exc
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise KnowledgeError(path, f"not JSON: {exc}", line=line) from exc
    import blake3

    digest = blake3.blake3(raw).hexdigest()
    items = doc.get("vulnerabilities") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise KnowledgeError(
            path,
            "expected a JSON object with a 'vulnerabilities' array: a CISA KEV catalog "
            "(known_exploited_vulnerabilities.json) or an NVD CVE API 2.0 feed",
            field="vulnerabilities",
        )
    first = next((item for item in items if isinstance(item, dict)), {})
    if "catalogVersion" in doc or "cveID" in first:
        return _read_kev(path, doc, items, digest)
    if doc.get("format") == "NVD_CVE" or "cve" in first:
        return _read_nvd(path, doc, items, digest)
    raise KnowledgeError(
        path,
        "neither a CISA KEV catalog (catalogVersion, vulnerabilities[].cveID) nor an "
        "NVD CVE API 2.0 feed (vulnerabilities[].cve)",
        field="vulnerabilities",
    )


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(
        self, message: str, *, index: int | None = None, cve: Any = None, field: str | None = None
    ) -> KnowledgeError:
        entry = None
        if index is not None:
            entry = f"#{index}" + (f" {cve}" if isinstance(cve, str) and cve else "")
        return KnowledgeError(self.path, message, entry=entry, field=field)

    def string(
        self,
        obj: dict[str, Any],
        name: str,
        *,
        index: int | None = None,
        cve: Any = None,
        prefix: str = "",
    ) -> str:
        if name not in obj:
            raise self.fail("missing", index=index, cve=cve, field=prefix + name)
        value = obj[name]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                f"must be a non-empty string, got {value!r}",
                index=index,
                cve=cve,
                field=prefix + name,
            )
        return value

    def cve_id(self, obj: dict[str, Any], name: str, *, index: int, prefix: str = "") -> str:
        value = self.string(obj, name, index=index, prefix=prefix)
        if not CVE_ID.match(value):
            raise self.fail(
                f"{value!r} is not a CVE id like CVE-2017-17215", index=index, field=prefix + name
            )
        return value

    def timestamp(
        self, value: str, *, index: int | None = None, cve: Any = None, field: str
    ) -> datetime:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise self.fail(
                f"{value!r} is not an ISO 8601 date/time", index=index, cve=cve, field=field
            ) from None


def _read_kev(path: Path, doc: dict[str, Any], items: list[Any], digest: str) -> Feed:
    check = _Checker(path)
    version = check.string(doc, "catalogVersion")
    released = check.string(doc, "dateReleased")
    check.timestamp(released, field="dateReleased")
    entries = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise check.fail("must be an object", index=i, field="vulnerabilities[]")
        cve = check.cve_id(item, "cveID", index=i)
        for name in KEV_REQUIRED[1:]:
            check.string(item, name, index=i, cve=cve)
        check.timestamp(item["dateAdded"], index=i, cve=cve, field="dateAdded")
        vendor = normalize_name(item["vendorProject"])
        product = normalize_name(item["product"])
        entries.append(
            FeedEntry(
                cve=cve,
                title=item["vulnerabilityName"].strip(),
                published=None,
                names=((vendor, product),),
                text=f"{item['vulnerabilityName']} {item['shortDescription']}",
            )
        )
    return Feed(str(path), "cisa-kev", version, released, digest, tuple(entries))


def _read_nvd(path: Path, doc: dict[str, Any], items: list[Any], digest: str) -> Feed:
    check = _Checker(path)
    version = doc.get("version")
    stamp = doc.get("timestamp")
    for name, value in (("version", version), ("timestamp", stamp)):
        if value is not None and not isinstance(value, str):
            raise check.fail(f"must be a string, got {value!r}", field=name)
    if stamp is not None:
        check.timestamp(stamp, field="timestamp")
    entries = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("cve"), dict):
            raise check.fail("must be an object with a 'cve' object", index=i, field="cve")
        record = item["cve"]
        cve = check.cve_id(record, "id", index=i, prefix="cve.")
        published = check.timestamp(
            check.string(record, "published", index=i, cve=cve, prefix="cve."),
            index=i,
            cve=cve,
            field="cve.published",
        )
        description = _english(check, record, i, cve)
        name = record.get("cisaVulnerabilityName")
        if name is not None and not isinstance(name, str):
            raise check.fail(
                "must be a string", index=i, cve=cve, field="cve.cisaVulnerabilityName"
            )
        entries.append(
            FeedEntry(
                cve=cve,
                title=(name or _first_sentence(description) or cve).strip(),
                published=published.date(),
                names=tuple(dict.fromkeys(_cpe_names(check, record, i, cve))),
                text=f"{name or ''} {description}",
            )
        )
    return Feed(str(path), "nvd", version, stamp, digest, tuple(entries))


def _english(check: _Checker, record: dict[str, Any], i: int, cve: str) -> str:
    descriptions = record.get("descriptions", [])
    if not isinstance(descriptions, list):
        raise check.fail("must be an array", index=i, cve=cve, field="cve.descriptions")
    for j, d in enumerate(descriptions):
        if not isinstance(d, dict) or not isinstance(d.get("value"), str):
            raise check.fail(
                "must be an object with a string 'value'",
                index=i,
                cve=cve,
                field=f"cve.descriptions[{j}]",
            )
        if d.get("lang") == "en":
            return d["value"]
    return ""


def _cpe_names(
    check: _Checker, record: dict[str, Any], i: int, cve: str
) -> Iterator[tuple[str, str]]:
    """(vendor, product) of every vulnerable CPE match string, ``_firmware`` dropped."""
    configurations = record.get("configurations", [])
    if not isinstance(configurations, list):
        raise check.fail("must be an array", index=i, cve=cve, field="cve.configurations")
    for c, config in enumerate(configurations):
        nodes = config.get("nodes") if isinstance(config, dict) else None
        if not isinstance(nodes, list):
            raise check.fail(
                "must be an object with a 'nodes' array",
                index=i,
                cve=cve,
                field=f"cve.configurations[{c}]",
            )
        for n, node in enumerate(nodes):
            where = f"cve.configurations[{c}].nodes[{n}]"
            matches = node.get("cpeMatch", []) if isinstance(node, dict) else None
            if not isinstance(matches, list):
                raise check.fail(
                    "must be an object with a 'cpeMatch' array", index=i, cve=cve, field=where
                )
            for m, match in enumerate(matches):
                here = f"{where}.cpeMatch[{m}]"
                if not isinstance(match, dict):
                    raise check.fail("must be an object", index=i, cve=cve, field=here)
                criteria = match.get("criteria")
                parts = _CPE_SPLIT.split(criteria) if isinstance(criteria, str) else []
                if len(parts) != 13 or parts[:2] != ["cpe", "2.3"]:
                    raise check.fail(
                        f"{criteria!r} is not a CPE 2.3 name (cpe:2.3:part:vendor:product:...)",
                        index=i,
                        cve=cve,
                        field=here + ".criteria",
                    )
                if match.get("vulnerable") is not True:
                    continue
                product = normalize_name(parts[4])
                if product.endswith("_firmware"):
                    product = product[: -len("_firmware")]
                yield normalize_name(parts[3]), product


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    if len(sentence) > _TITLE_CHARS:
        sentence = sentence[: _TITLE_CHARS - 1].rstrip() + "…"
    return sentence


# ------------------------------------------------------------------ linking, storing


def link_feed(feed: Feed, kb: KnowledgeBase) -> list[dict[str, Any]]:
    """One link per (port, CVE) whose names match a product of that port."""
    links = []
    for entry in feed.entries:
        sources = [NVD_DETAIL + entry.cve]
        if feed.source == "cisa-kev":
            sources.append(KEV_CATALOG)
        for port in kb:
            product = next(
                (
                    p
                    for p in port.products
                    if any(p.matches(vendor, name, entry.text) for vendor, name in entry.names)
                ),
                None,
            )
            if product is not None:
                links.append(
                    {
                        "proto": port.proto,
                        "port": port.port,
                        "cve": entry.cve,
                        "title": entry.title,
                        "published": entry.published.isoformat() if entry.published else None,
                        "product": product.name,
                        "sources": sources,
                    }
                )
    return links


def import_feed(
    path: str | os.PathLike[str],
    store: str | os.PathLike[str] | None = None,
    *,
    kb: KnowledgeBase | None = None,
) -> ImportReport:
    """Read ``path``, link its CVEs to the ports of ``kb`` (the packaged knowledge base by
    default) and store the links in ``<store>/knowledge/imported-<digest>.json``.

    Importing the same feed again replaces its file. Nothing is written when the feed
    is malformed (:class:`KnowledgeError`).
    """
    from teiten.store.dataset import default_store_path

    feed = read_feed(path)
    kb = kb if kb is not None else load_knowledge()
    links = link_feed(feed, kb)
    folder = default_store_path(store) / "knowledge"
    target = folder / f"imported-{feed.digest[:16]}.json"
    replaced = target.exists()
    doc = {
        "format": IMPORT_FORMAT,
        "version": 1,
        "source": feed.source,
        "feed": Path(feed.path).name,
        "feed_version": feed.version,
        "feed_date": feed.date,
        "digest": feed.digest,
        "imported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "knowledge_edition": kb.edition.isoformat(),
        "entries": len(feed.entries),
        "links": links,
    }
    _write_atomically(target, json.dumps(doc, ensure_ascii=False, indent=1) + "\n")
    return ImportReport(
        feed=feed.path,
        source=feed.source,
        feed_version=feed.version,
        feed_date=feed.date,
        entries=len(feed.entries),
        stored=str(target),
        replaced=replaced,
        links=links,
    )


def _write_atomically(target: Path, text: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".import-", suffix=".tmp")
    except OSError as exc:
        raise StoreError(
            f"{target.parent}: cannot write the import: {exc.strerror or exc}"
        ) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StoreError(f"{target}: cannot write the import: {exc.strerror or exc}") from exc
