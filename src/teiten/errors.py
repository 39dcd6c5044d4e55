"""Exceptions raised by teiten.

Every error a user can cause is a :class:`TeitenError`; its message says what
happened, where, and what to do about it. The CLI turns them into a one-line
message and a non-zero exit status.

Tree::

    TeitenError
    ├── CaptureError                 a capture file cannot be read (carries ``path``)
    │   ├── NotACaptureError         the bytes are not pcap/pcapng (or compressed ones)
    │   ├── UnsupportedLinkTypeError the link type has no decoder (names it)
    │   ├── CorruptCaptureError      a record/block header is impossible (offset, packet number)
    │   └── UnsupportedFormatError   a pcap/pcapng version or feature we do not read
    ├── GeoDatabaseError             the country/AS database cannot be opened or read
    ├── StoreError                   the Parquet store or its manifest is unusable
    ├── OptionError                  a value given to an option is invalid (usage error)
    │   └── PeriodError              a period string cannot be parsed
    ├── KnowledgeError               the knowledge base, a feed or a stored import is malformed
    │                                (names the file, line, entry and field)
    └── ReferenceDataError           a reference list (e.g. research scanner networks) cannot
                                     be read or has a bad line (names the file and line)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CaptureError",
    "CorruptCaptureError",
    "GeoDatabaseError",
    "KnowledgeError",
    "NotACaptureError",
    "OptionError",
    "PeriodError",
    "ReferenceDataError",
    "StoreError",
    "TeitenError",
    "UnsupportedFormatError",
    "UnsupportedLinkTypeError",
]


class TeitenError(Exception):
    """Base of every error teiten raises on purpose."""


class CaptureError(TeitenError):
    """A capture file cannot be read (or cannot be read any further)."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = str(path)
        self.message = message
        super().__init__(f"{self.path}: {message}")


class NotACaptureError(CaptureError):
    """The file is neither pcap nor pcapng (nor a gzip/zstd-compressed one)."""


class UnsupportedFormatError(CaptureError):
    """A capture format version or feature teiten does not read."""


class UnsupportedLinkTypeError(CaptureError):
    """The capture's link type has no decoder."""

    def __init__(self, path: str | Path, linktype: int, name: str) -> None:
        self.linktype = linktype
        super().__init__(
            path,
            f"unsupported link type {linktype} ({name}); teiten decodes Ethernet, "
            "Linux cooked SLL/SLL2, raw IP and BSD loopback/NULL captures",
        )


class CorruptCaptureError(CaptureError):
    """A record or block header is impossible; packets before it were read."""

    def __init__(self, path: str | Path, offset: int, packet_number: int, detail: str) -> None:
        self.offset = offset
        self.packet_number = packet_number
        self.detail = detail
        super().__init__(
            path,
            f"corrupt record at byte offset {offset} (packet {packet_number}): {detail}; "
            f"the {packet_number - 1} packets before it were read",
        )


class GeoDatabaseError(TeitenError):
    """The country/AS database cannot be opened or read."""


class StoreError(TeitenError):
    """The store or its manifest is missing, locked or damaged."""


class OptionError(TeitenError):
    """A value given to an option (period, protocol, metric ...) is invalid."""


class PeriodError(OptionError):
    """A period string cannot be parsed."""


class KnowledgeError(TeitenError):
    """The knowledge base file, a vulnerability feed or a stored import is malformed.

    Carries ``path``, and where known ``line`` (1-based), ``entry`` (a port such as
    ``37215/tcp``, or a feed entry such as ``#3 CVE-2017-17215``) and ``field``
    (``cve[0].published``, ``vendorProject`` ...).
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        entry: str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        self.entry = entry
        self.field = field
        where = f"{self.path}:{line}" if line else self.path
        if entry:
            where += f": entry {entry}"
        if field:
            where += f": field '{field}'"
        super().__init__(f"{where}: {message}")


class ReferenceDataError(TeitenError):
    """A reference list given by the user (research scanner networks …) is unusable.

    Carries ``path`` and, for a bad entry, ``line`` (1-based).
    """

    def __init__(self, path: str | Path, message: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}")
