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
    │   ├── NotAStoreError           the directory has no manifest (reads never create one)
    │   ├── StorePermissionError     the store cannot be read or written by this user, or sits
    │   │                            on a read-only file system (names the file)
    │   ├── StoreDamageError         a Parquet file or the manifest is unreadable or altered
    │   │                            (names the file; `teiten store check` lists them all)
    │   └── StoreVersionError        the store was written by an older teiten (an older store
    │                                schema); `teiten store migrate` upgrades it
    ├── RawPacketsDroppedError       an answer needs raw packets of days whose packets raw
    │                                retention dropped (names the days and the horizon)
    ├── OptionError                  a value given to an option is invalid (usage error)
    │   ├── PeriodError              a period string cannot be parsed
    │   └── ParameterError           … a query parameter of the HTTP API (422, names it)
    ├── WarmingStale                 … the store changed while answers were made ahead
    ├── KnowledgeError               the knowledge base, a feed or a stored import is malformed
    │                                (names the file, line, entry and field)
    ├── ReferenceDataError           a reference list (e.g. research scanner networks) cannot
    │                                be read or has a bad line (names the file and line)
    ├── StoreWriteError              the collector could not write a batch (disk full, I/O
    │                                error: ``disk_full`` says which); nothing of it stayed
    ├── SettingsFileError            a settings file cannot be read or has a bad key (``path``)
    │   ├── SensorConfigError        … ``sensor.toml``
    │   ├── CollectorConfigError     … ``collector.toml``
    │   ├── WebConfigError           … ``web.toml``
    │   └── NotifyConfigError        … ``notify.toml`` (or a credentials file it names)
    ├── SensorsFileError             a simulation's sensors file is unreadable (file and line)
    ├── ScenarioError                a simulation scenario breaks the vocabulary (``path``,
    │                                ``entry``, ``field``)
    ├── ReportError                  a report cannot be built or rendered (a missing tool, an
    │                                unwritable output …)
    ├── AssetError                   a front-end file the dashboard serves (its chart library)
    │                                is missing, cannot be fetched or fails its pinned digest
    ├── EngineError                  the query engine cannot start (PySpark not installed, no
    │                                Java, a Spark master or Connect server unreachable)
    ├── BatchFormatError             an uploaded body is not a wire batch of this version
    ├── DeliveryError                a feed could not be delivered (names the recipient, the
    │                                transport and why; never a credential)
    └── Refusal                      the collector refuses an upload, or the web server a
                                     request: HTTP ``status``, metric ``reason`` (answered as JSON)

Internal, never shown as such::

    DecompressionError               compressed capture data is damaged; the capture readers
                                     turn it into a CorruptCaptureError (path, offset, packet)
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

__all__ = [
    "AssetError",
    "BatchFormatError",
    "CaptureError",
    "CollectorConfigError",
    "CorruptCaptureError",
    "DecompressionError",
    "DeliveryError",
    "EngineError",
    "GeoDatabaseError",
    "KnowledgeError",
    "NotACaptureError",
    "NotAStoreError",
    "NotifyConfigError",
    "OptionError",
    "ParameterError",
    "PeriodError",
    "RawPacketsDroppedError",
    "ReferenceDataError",
    "Refusal",
    "ReportError",
    "ScenarioError",
    "SensorConfigError",
    "SensorsFileError",
    "SettingsFileError",
    "StoreDamageError",
    "StoreError",
    "StorePermissionError",
    "StoreVersionError",
    "StoreWriteError",
    "TeitenError",
    "UnsupportedFormatError",
    "UnsupportedLinkTypeError",
    "WarmingStale",
    "WebConfigError",
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


class NotAStoreError(StoreError):
    """The directory holds no store manifest; a read leaves it as it is."""

    def __init__(self, root: str | Path) -> None:
        self.path = str(root)
        super().__init__(
            f"not a teiten store (no manifest): {self.path}; ingest captures into it first "
            "(teiten ingest --store DIR FILE...) or pass --store / set $TEITEN_STORE"
        )


class StorePermissionError(StoreError):
    """This user may not read (or write) a file of the store, or its file system is read-only.

    Carries ``path``, the file or folder refused.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = str(path)
        super().__init__(message)


class StoreDamageError(StoreError):
    """A file of the store (a Parquet part or the manifest) cannot be read or was altered.

    Carries ``path``, the damaged file.
    """

    def __init__(self, path: str | Path, message: str) -> None:
        self.path = str(path)
        super().__init__(message)


class StoreVersionError(StoreError):
    """The store's packet files have an older schema than this teiten reads.

    Carries ``path`` (the store) and ``version`` (its store schema version).
    """

    def __init__(self, root: str | Path, version: int) -> None:
        self.path = str(root)
        self.version = version
        super().__init__(
            f"{self.path}: written by an older teiten (store schema {version}); run "
            f"`teiten store migrate --store {self.path}` to upgrade it (rewrites its packet "
            "files, keeps every packet)"
        )


class RawPacketsDroppedError(TeitenError):
    """What was asked needs the raw packets of days that raw retention dropped (their
    rollups answer rankings and series, not this).

    Carries ``raw_since`` (the first day whose raw packets are kept) and ``days`` (the
    first and last day asked for that lack them).
    """

    def __init__(self, what: str, raw_since: date, days: tuple[date, date]) -> None:
        self.raw_since = raw_since
        self.days = days
        first, last = days
        span = str(first) if first == last else f"{first}..{last}"
        super().__init__(
            f"{what}: the raw packets of {span} are needed, and raw retention dropped them "
            f"(this store keeps raw packets from {raw_since} on, older days as rollups only; "
            f"see `teiten store info`); ask for days from {raw_since} on"
        )


class OptionError(TeitenError):
    """A value given to an option (period, protocol, metric ...) is invalid."""


class PeriodError(OptionError):
    """A period string cannot be parsed."""


class ParameterError(OptionError):
    """A query parameter the HTTP API refuses (422); ``name`` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


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
        super().__init__(_located(self.path, message, line, entry and f"entry {entry}", field))


class ReferenceDataError(TeitenError):
    """A reference list given by the user (research scanner networks …) is unusable.

    Carries ``path`` and, for a bad entry, ``line`` (1-based).
    """

    def __init__(self, path: str | Path, message: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        super().__init__(_located(self.path, message, line))


class StoreWriteError(TeitenError):
    """The store could not be written (disk full, I/O error); nothing of the batch stayed."""

    def __init__(self, message: str, *, disk_full: bool) -> None:
        self.disk_full = disk_full
        super().__init__(message)


class SettingsFileError(TeitenError):
    """A settings file cannot be read or has a bad key (names the file and key)."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


class SensorConfigError(SettingsFileError):
    """``sensor.toml`` cannot be read or has a bad key (names the file and key)."""


class CollectorConfigError(SettingsFileError):
    """``collector.toml`` cannot be read or has a bad key (names the file and key)."""


class WebConfigError(SettingsFileError):
    """``web.toml`` cannot be read or has a bad key (names the file and key)."""


class NotifyConfigError(SettingsFileError):
    """``notify.toml``, or a credentials file it names, cannot be read or has a bad key
    (names the file and key; never a secret's value)."""


class SensorsFileError(TeitenError):
    """A sensors file cannot be read or has a bad line (names the file and line)."""


class ScenarioError(TeitenError):
    """A scenario file is unreadable or breaks the vocabulary.

    Carries ``path`` and where known ``entry`` (``changes[2] (bluekeep)``) and
    ``field`` (``factor``).
    """

    def __init__(
        self, path: str, message: str, *, entry: str | None = None, field: str | None = None
    ) -> None:
        self.path, self.message, self.entry, self.field = path, message, entry, field
        super().__init__(_located(path, message, None, entry, field))


class ReportError(TeitenError):
    """A report cannot be built or rendered (a missing tool, an unwritable output …)."""


class AssetError(TeitenError):
    """A front-end file ``teiten serve`` serves is missing, cannot be fetched, or its
    download does not match the pinned digest (names the package, and what to run)."""


class EngineError(TeitenError):
    """The query engine cannot start (says what is missing and how to get it)."""


class BatchFormatError(TeitenError):
    """A batch body is not a wire batch of this version (says what is wrong)."""


class DeliveryError(TeitenError):
    """A feed could not be delivered: says to whom, by which transport and why (never a
    credential).

    ``maybe_delivered``: the attempt went past the point where the receiver may have
    accepted it (an SMTP message's final dot, an HTTP request) without an answer, so it
    may have arrived; ``permanent``: the receiver refused it for good (a 5xx reply, a
    4xx HTTP status), so retrying now cannot help.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False, permanent: bool = False):
        self.maybe_delivered = maybe_delivered
        self.permanent = permanent
        super().__init__(message)


class Refusal(TeitenError):
    """A request the collector (an upload) or the web server refuses: an HTTP ``status``,
    ``reason`` its metric label.

    ``extra`` holds more fields for the JSON answer (see ``teiten.collector.app``).
    """

    def __init__(
        self, status: int, reason: str, message: str, extra: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.reason = reason
        self.message = message
        self.extra = extra or {}
        super().__init__(message)


class DecompressionError(Exception):
    """Compressed capture data is damaged.

    Internal: the capture readers turn it into :class:`CorruptCaptureError`, which
    knows the file, the offset and the packet number.
    """


def _located(
    path: str,
    message: str,
    line: int | None = None,
    entry: str | None = None,
    field: str | None = None,
) -> str:
    """``path[:line][: entry][: field 'name']: message`` — where a reference file is bad."""
    where = f"{path}:{line}" if line else path
    if entry:
        where += f": {entry}"
    if field:
        where += f": field '{field}'"
    return f"{where}: {message}"


class WarmingStale(TeitenError):
    """The store changed (or the server stops) while ``teiten serve`` made answers ahead:
    the warmer starts over (or stops). Never reaches a user."""
