"""Readers of the public AS data formats operators use, plain or gzip-compressed.

* **iptoasn** (iptoasn.com ``ip2asn-v4.tsv.gz``, ``ip2asn-v6.tsv.gz``,
  ``ip2asn-combined.tsv.gz``; public domain): ``range start, range end, AS number,
  country, AS name``, tab-separated. AS number 0 marks a range that is not routed:
  it is left out (an address there has no AS) and counted as ``not_routed``.
* **prefix2as** (CAIDA's Routeviews prefix-to-AS, ``routeviews-rv2-YYYYMMDD-HHMM.pfx2as.gz``
  and ``rv6``): ``prefix, length, AS``, tab-separated. A prefix announced by several
  origins (``a_b``, counted as ``multi_origin``) or by an AS set (``a,b``, counted as
  ``as_set``) is given its **first listed** AS. A 0 AS is counted as ``not_routed``.
  The file has no names; the date is taken from its standard file name.
* **mmdb** (MaxMind GeoLite2-ASN, DB-IP ASN Lite, IPinfo ASN ``.mmdb``): every network
  of the tree whose record has an AS number (:mod:`teiten.enrich.mmdb_fields`), dated
  by the database's build time. Networks without one are counted as ``no_asn``; a
  database with none at all (a country database) is refused.

Strict: a line that does not parse, damaged gzip data or an unreadable database is a
:class:`~teiten.errors.ReferenceDataError` naming the file and line, and nothing is
imported. These files are generated, so a bad line means a damaged or wrong file,
not a line to skip. (AS names that are not valid UTF-8 are kept with U+FFFD.)
"""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import socket
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from ipaddress import IPv4Network, IPv6Network
from typing import IO

import maxminddb

from teiten.enrich.asn.table import Span
from teiten.enrich.mmdb_fields import record_as_name, record_asn
from teiten.errors import ReferenceDataError

__all__ = ["FORMATS", "AsnSource", "detect_format", "read_asn_file"]

FORMATS = ("iptoasn", "prefix2as", "mmdb")

_MMDB_MARKER = b"\xab\xcd\xefMaxMind.com"
_MMDB_TAIL = 128 * 1024  # the metadata section is within the file's last 128 KiB
_PFX2AS_NAME = re.compile(r"(\d{4})(\d{2})(\d{2})-\d{4}\.pfx2as")
# An IPv6 database's aliases of its IPv4 tree (IPv4-mapped, 6to4): not IPv6 networks.
_IPV4_ALIASES = (IPv6Network("::ffff:0:0/96"), IPv6Network("2002::/16"))
_ASN_MAX = 2**32 - 1

_IPTOASN_SHAPE = "an iptoasn line is: range start, range end, AS number, country, AS name"
_PFX2AS_SHAPE = "a prefix2as line is: prefix, prefix length, AS"


@dataclass
class AsnSource:
    """What one file holds: ranges per family (as integers), AS names, and counts.

    ``counts``: ``rows`` read, and what was left out or decided (``not_routed``,
    ``multi_origin``, ``as_set``, ``no_asn``, ``ipv4_aliases``). ``date`` is the
    data's own date where the format has one, with ``date_from`` saying where from.
    """

    format: str
    ipv4: list[Span] = field(default_factory=list)
    ipv6: list[Span] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    date: date | None = None
    date_from: str | None = None

    def add(self, version: int, start: int, end: int, asn: int, name: str | None = None) -> None:
        (self.ipv4 if version == 4 else self.ipv6).append((start, end, asn))
        if name and asn not in self.names:
            self.names[asn] = name


def read_asn_file(path: str | os.PathLike[str], fmt: str | None = None) -> AsnSource:
    """Read an AS data file of format ``fmt`` (detected from its content when None)."""
    source = os.fspath(path)
    fmt = fmt or detect_format(source)
    if fmt not in FORMATS:
        raise ReferenceDataError(source, f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    readers: dict[str, Callable[[str], AsnSource]] = {
        "iptoasn": _read_iptoasn,
        "prefix2as": _read_prefix2as,
        "mmdb": _read_mmdb,
    }
    found = readers[fmt](source)
    if not found.ipv4 and not found.ipv6:
        raise ReferenceDataError(source, f"no routed range with an AS number in this {fmt} file")
    return found


def detect_format(path: str | os.PathLike[str]) -> str:
    """iptoasn, prefix2as or mmdb, from the file's content (not its name)."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - _MMDB_TAIL))
            if _MMDB_MARKER in f.read():
                return "mmdb"
    except OSError as exc:
        raise ReferenceDataError(source, f"cannot read the file: {_reason(exc)}") from exc
    for _, line in _each_line(source):
        fields = line.rstrip("\r\n").split("\t")
        if fields == [""]:
            continue
        if len(fields) == 5 and _is_address(fields[0]) and _is_address(fields[1]):
            return "iptoasn"
        if len(fields) == 3 and _is_address(fields[0]) and fields[1].isdecimal():
            return "prefix2as"
        raise ReferenceDataError(
            source,
            "not an AS data file teiten imports (an iptoasn TSV, a CAIDA prefix2as file or "
            f"an ASN .mmdb); its first line is {line[:80]!r}",
            line=1,
        )
    raise ReferenceDataError(source, "the file is empty")


# --- text files -------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or repr(exc)


def _open_text(path: str) -> IO[str]:
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    if compressed:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _each_line(path: str) -> Iterator[tuple[int, str]]:
    """(line number, line) of a plain or gzip text file; damaged data is an error."""
    try:
        text = _open_text(path)
    except OSError as exc:
        raise ReferenceDataError(path, f"cannot read the file: {_reason(exc)}") from exc
    number = 0
    try:
        with text:
            for number, line in enumerate(text, 1):
                yield number, line
    except (OSError, EOFError, zlib.error) as exc:
        raise ReferenceDataError(
            path,
            f"damaged or truncated after line {number} ({_reason(exc)}); download the file again",
        ) from exc


def _read_lines(path: str, fmt: str, parse: Callable[[list[str], AsnSource], None]) -> AsnSource:
    """Parse each non-blank tab-separated line into an :class:`AsnSource`."""
    found = AsnSource(fmt)
    for number, line in _each_line(path):
        fields = line.rstrip("\r\n").split("\t")
        if fields == [""]:
            continue
        try:
            parse(fields, found)
        except ValueError as exc:
            raise ReferenceDataError(path, str(exc), line=number) from None
        found.counts["rows"] += 1
    return found


def _address(text: str) -> tuple[int, int]:
    """(IP version, address as an integer) of an address text, or a ValueError."""
    for family, version in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            return version, int.from_bytes(socket.inet_pton(family, text.strip()), "big")
        except OSError:
            continue
    raise ValueError(f"{text!r} is not an IPv4 or IPv6 address")


def _is_address(text: str) -> bool:
    try:
        _address(text)
    except ValueError:
        return False
    return True


def _as_number(text: str) -> int:
    value = text.strip()
    if not value.isdecimal() or int(value) > _ASN_MAX:
        raise ValueError(f"{text!r} is not an AS number (0 to {_ASN_MAX})")
    return int(value)


def _iptoasn_line(fields: list[str], found: AsnSource) -> None:
    if len(fields) != 5:
        raise ValueError(f"{len(fields)} tab-separated fields, not 5 ({_IPTOASN_SHAPE})")
    version, start = _address(fields[0])
    end_version, end = _address(fields[1])
    if end_version != version or end < start:
        raise ValueError(f"{fields[0]} to {fields[1]} is not a range ({_IPTOASN_SHAPE})")
    asn = _as_number(fields[2])
    if asn == 0:
        found.counts["not_routed"] += 1
        return
    found.add(version, start, end, asn, fields[4].strip())


def _read_iptoasn(path: str) -> AsnSource:
    return _read_lines(path, "iptoasn", _iptoasn_line)


def _origin(text: str, found: AsnSource) -> int:
    """The first listed AS of a prefix2as AS field (``a``, ``a_b`` MOAS, ``a,b`` AS set)."""
    origins = [origin.strip("{}").split(",") for origin in text.strip().split("_")]
    numbers = [[_as_number(member) for member in members] for members in origins]
    if len(numbers) > 1:
        found.counts["multi_origin"] += 1
    if any(len(members) > 1 for members in numbers):
        found.counts["as_set"] += 1
    return numbers[0][0]


def _prefix2as_line(fields: list[str], found: AsnSource) -> None:
    if len(fields) != 3:
        raise ValueError(f"{len(fields)} tab-separated fields, not 3 ({_PFX2AS_SHAPE})")
    version, start = _address(fields[0])
    bits = 32 if version == 4 else 128
    if not fields[1].strip().isdecimal() or int(fields[1]) > bits:
        raise ValueError(f"{fields[1]!r} is not a prefix length (0 to {bits})")
    host = (1 << (bits - int(fields[1]))) - 1
    if start & host:
        raise ValueError(f"{fields[0]}/{fields[1].strip()} has host bits set ({_PFX2AS_SHAPE})")
    asn = _origin(fields[2], found)
    if asn == 0:
        found.counts["not_routed"] += 1
        return
    found.add(version, start, start | host, asn)


def _read_prefix2as(path: str) -> AsnSource:
    found = _read_lines(path, "prefix2as", _prefix2as_line)
    if m := _PFX2AS_NAME.search(os.path.basename(path)):
        with contextlib.suppress(ValueError):  # not a real day: the file's time then
            found.date, found.date_from = date(*map(int, m.groups())), "file name"
    return found


# --- MaxMind DB -------------------------------------------------------------------------


def _read_mmdb(path: str) -> AsnSource:
    try:
        reader = maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise ReferenceDataError(
            path, f"cannot open as a MaxMind DB (.mmdb) file ({_reason(exc)})"
        ) from exc
    with reader:
        meta = reader.metadata()
        found = AsnSource("mmdb")
        try:
            found.date = datetime.fromtimestamp(meta.build_epoch, UTC).date()
            found.date_from = "database build time"
        except (OverflowError, OSError, ValueError):
            pass
        try:
            for network, record in reader:
                _mmdb_network(network, record, found)
        except (maxminddb.InvalidDatabaseError, ValueError, KeyError) as exc:
            raise ReferenceDataError(
                path,
                f"damaged data after {found.counts['rows']} networks ({exc}); "
                "download the database again",
            ) from exc
    if not found.ipv4 and not found.ipv6:
        raise ReferenceDataError(
            path,
            f"a {meta.database_type} database with no AS numbers; give an ASN database "
            "(GeoLite2-ASN, DB-IP ASN Lite, IPinfo ASN)",
        )
    return found


def _mmdb_network(network: IPv4Network | IPv6Network, record: object, found: AsnSource) -> None:
    found.counts["rows"] += 1
    if isinstance(network, IPv6Network) and any(network.subnet_of(a) for a in _IPV4_ALIASES):
        found.counts["ipv4_aliases"] += 1
        return
    asn = record_asn(record)
    if asn is None:
        found.counts["no_asn"] += 1
        return
    first, last = int(network.network_address), int(network.broadcast_address)
    found.add(network.version, first, last, asn, record_as_name(record))
