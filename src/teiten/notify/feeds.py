"""A recipient's feed: its rows, their status against its previous feed, and its files.

One row per source, finding kind and IP protocol, with Shadowserver's column names
where one applies (:data:`COLUMNS`; ``docs/notify.md`` maps them). ``status`` says
``new`` (not in the recipient's previous feed), ``ongoing`` (in it) or ``gone`` (in it,
not in this one: ``count`` 0, the timestamps those of the previous feed). The header
names the period, the previous feed's period, the TLP, the reference data editions
and who publishes; the destination of every packet is "a darknet sensor", never an
address.

The feed's ``digest`` covers everything a recipient reads but when and by which teiten
version it was generated, so the same findings give the same digest: rebuilding a
period changes nothing, and the sent-log knows a feed it sent. Pure: bytes in, bytes
out (:mod:`teiten.notify.archive` keeps the files).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import socket
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from teiten.analyze.periods import Period
from teiten.notify.config import TLP, Recipient
from teiten.notify.findings import KINDS, SEVERITIES, FoundSource

__all__ = [
    "COLUMNS",
    "DESTINATION",
    "FORMAT",
    "STATUSES",
    "Feed",
    "make_feed",
    "matches",
    "parse_json",
    "render_csv",
    "render_json",
]

FORMAT = "teiten-notify-feed/1"
DESTINATION = "a darknet sensor"
STATUSES = ("new", "ongoing", "gone")
COLUMNS = (
    "timestamp", "last_seen", "ip", "asn", "geo", "protocol", "dst_port", "type",
    "infection", "family", "tag", "count", "severity", "status",
)  # fmt: skip
_UNSIGNED = ("generated_at", "generator", "digest")  # header fields the digest leaves out


@dataclass(frozen=True)
class Feed:
    """A feed: its ``header`` (see the module) and its ``rows`` (dicts of :data:`COLUMNS`)."""

    header: dict[str, Any]
    rows: tuple[dict[str, Any], ...]

    @property
    def recipient(self) -> str:
        return str(self.header["recipient"])

    @property
    def period_label(self) -> str:
        return str(self.header["period"]["label"])

    @property
    def period_start(self) -> str:
        return str(self.header["period"]["start"])

    @property
    def digest(self) -> str:
        return str(self.header["digest"])

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.header["counts"])


def matches(
    source: FoundSource, recipient: Recipient, spans: Sequence[tuple[bytes, bytes]]
) -> bool:
    """Whether ``source`` is in any of the recipient's ASes, networks (``spans``: their
    first and last stored address) or countries."""
    return (
        (source.asn is not None and source.asn in recipient.asns)
        or (source.country is not None and source.country in recipient.countries)
        or any(first <= source.src <= last for first, last in spans)
    )


def make_feed(
    recipient: Recipient,
    period: Period,
    found: Iterable[FoundSource],
    previous: Feed | None,
    *,
    tlp: str,
    editions: list[dict[str, str]],
    publisher: dict[str, str | None],
    generated_at: datetime,
    generator: str,
) -> Feed:
    """``recipient``'s feed of ``period`` from its sources (already selected), with
    statuses against its ``previous`` feed."""
    current = [_row(s) for s in found if s.kind in recipient.findings]
    rows = sorted(_with_statuses(current, previous, recipient.findings), key=_order)
    header: dict[str, Any] = {
        "format": FORMAT,
        "recipient": recipient.name,
        "period": period.as_json(),
        "previous_period": previous.period_label if previous else None,
        "tlp": TLP[tlp],
        "publisher": publisher,
        "destination": DESTINATION,
        "findings": [
            {"type": k, "severity": KINDS[k].severity, "evidence": KINDS[k].evidence}
            for k in recipient.findings
        ],
        "editions": editions,
        "counts": {s: n for s, n in Counter(r["status"] for r in rows).items()},
        "columns": list(COLUMNS),
    }
    header["counts"] = {s: header["counts"].get(s, 0) for s in STATUSES}
    header["generated_at"] = generated_at.astimezone(UTC).isoformat(timespec="seconds")
    header["generator"] = generator
    header["digest"] = feed_digest(header, rows)
    return Feed(header, tuple(rows))


def feed_digest(header: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """``sha256:<hex>`` of what a recipient reads (not when or by what it was made)."""
    signed = {k: v for k, v in header.items() if k not in _UNSIGNED}
    text = json.dumps({"header": signed, "rows": list(rows)}, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _when(ns: int) -> str:
    """Shadowserver's timestamp: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _row(s: FoundSource) -> dict[str, Any]:
    kind = KINDS[s.kind]
    return {
        "timestamp": _when(s.first_ns),
        "last_seen": _when(s.last_ns),
        "ip": s.ip,
        "asn": s.asn,
        "geo": s.country,
        "protocol": s.protocol,
        "dst_port": list(s.ports),
        "type": s.kind,
        "infection": s.kind if kind.infection else "",
        "family": s.family,
        "tag": ";".join(s.tags),
        "count": s.packets,
        "severity": kind.severity,
    }


def _key(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["ip"], row["type"], row["protocol"]


def _with_statuses(
    current: list[dict[str, Any]], previous: Feed | None, kinds: Sequence[str]
) -> list[dict[str, Any]]:
    before = {
        _key(r): r
        for r in (previous.rows if previous else ())
        if r["status"] != "gone" and r["type"] in kinds
    }
    now = {_key(r) for r in current}
    rows = [r | {"status": "ongoing" if _key(r) in before else "new"} for r in current]
    rows += [r | {"count": 0, "status": "gone"} for k, r in before.items() if k not in now]
    return rows


def _order(row: dict[str, Any]) -> tuple[int, str, bytes, str]:
    """Most severe first, then by kind, address (IPv4 before IPv6) and protocol."""
    return SEVERITIES.index(row["severity"]), row["type"], _packed(row["ip"]), row["protocol"]


def _packed(ip: str) -> bytes:
    """An address's bytes, IPv4 (4 bytes) sorting before IPv6 (a leading byte)."""
    try:
        return b"\x04" + socket.inet_pton(socket.AF_INET, ip)
    except OSError:
        return b"\x06" + socket.inet_pton(socket.AF_INET6, ip)


def render_json(feed: Feed) -> bytes:
    """The feed as JSON: its header's fields (indented), then ``rows``, one per line."""
    head = json.dumps(feed.header, ensure_ascii=False, indent=1)
    rows = ",\n  ".join(json.dumps(r, ensure_ascii=False) for r in feed.rows)
    return f'{head[:-2]},\n "rows": [\n  {rows}\n ]\n}}\n'.encode()


def parse_json(data: bytes) -> Feed:
    """A feed :func:`render_json` wrote (a ValueError when it is not one)."""
    body = json.loads(data)
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} document")
    rows = body.pop("rows")
    return Feed(body, tuple(rows))


def render_csv(feed: Feed) -> bytes:
    """The feed as CSV: ``#`` comment lines (TLP, period, editions, destination, digest),
    then a header line of :data:`COLUMNS` and one line per row (``dst_port`` as ports
    separated by spaces)."""
    h = feed.header
    period = h["period"]
    editions = "; ".join(f"{e['database']} {e['edition']}" for e in h["editions"]) or "none"
    who = ", ".join(v for v in h["publisher"].values() if v) or "teiten"
    out = io.StringIO()
    for line in (
        f"{h['tlp']}: share as the Traffic Light Protocol 2.0 says (https://www.first.org/tlp/)",
        f"teiten darknet feed for {h['recipient']}, published by {who}",
        f"period: {period['label']} ({period['start']} .. {period['end']}, UTC); "
        f"previous feed: {h['previous_period'] or 'none'}",
        "counts: " + ", ".join(f"{n} {s}" for s, n in h["counts"].items()),
        f"reference data (geo/AS database editions): {editions}",
        f"destination of every packet: {h['destination']} (its addresses are not disclosed)",
        f"generated {h['generated_at']} by {h['generator']}; digest {h['digest']}",
    ):
        out.write(f"# {line}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in feed.rows:
        writer.writerow([_cell(name, row[name]) for name in COLUMNS])
    return out.getvalue().encode()


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if name == "dst_port":
        return " ".join(str(p) for p in value)
    return str(value)
