"""``collector.toml``: where the collector listens, where it stores, and its limits.

Every key is optional except ``store.path``; the file is validated when it loads
(unknown sections or keys, wrong types and impossible values are errors naming
the key), never per request. Relative paths are relative to the file's folder.
See ``docs/collector.md`` and ``docs/examples/collector.toml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teiten.errors import CollectorConfigError
from teiten.settings_file import Keys, check_files, read_settings, read_toml
from teiten.store.retention import MAX_DAYS

__all__ = ["DEFAULT_PORT", "CollectorConfig", "load_config"]

DEFAULT_PORT = 8750


@dataclass(frozen=True)
class CollectorConfig:
    """The collector's settings (defaults are the documented ones)."""

    store: Path
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    certfile: Path | None = None
    keyfile: Path | None = None
    max_body_bytes: int = 64 << 20
    max_batch_packets: int = 2_000_000
    max_concurrent_requests: int = 8
    retry_after_seconds: int = 5
    compact_interval_seconds: int = 3600
    compact_min_files: int = 4
    raw_retention_days: int | None = None  # set in the store at start; None: leave its own
    geoip: Path | None = None
    geoip_asn: Path | None = None
    research_scanners: bool = True
    log_level: str = "info"

    @property
    def tls(self) -> bool:
        return self.certfile is not None


# section -> key -> (field name, type, check or None)
_KEYS: Keys = {
    "listen": {
        "host": ("host", str, None),
        "port": ("port", int, lambda v: 0 <= v <= 65535),
        "certfile": ("certfile", Path, None),
        "keyfile": ("keyfile", Path, None),
    },
    "store": {
        "path": ("store", Path, None),
        "compact_interval_seconds": ("compact_interval_seconds", int, lambda v: v >= 0),
        "compact_min_files": ("compact_min_files", int, lambda v: v >= 2),
        "raw_retention_days": ("raw_retention_days", int, lambda v: 1 <= v <= MAX_DAYS),
    },
    "limits": {
        "max_body_bytes": ("max_body_bytes", int, lambda v: v >= 1024),
        "max_batch_packets": ("max_batch_packets", int, lambda v: v >= 1),
        "max_concurrent_requests": ("max_concurrent_requests", int, lambda v: v >= 1),
        "retry_after_seconds": ("retry_after_seconds", int, lambda v: v >= 1),
    },
    "enrich": {
        "geoip": ("geoip", Path, None),
        "geoip_asn": ("geoip_asn", Path, None),
        "research_scanners": ("research_scanners", bool, None),
    },
    "log": {
        "level": ("log_level", str, lambda v: v in ("debug", "info", "warning", "error")),
    },
}
_FILES = ("listen.certfile", "listen.keyfile", "enrich.geoip", "enrich.geoip_asn")
_LIMITS = {
    "port": "between 0 and 65535",
    "max_body_bytes": "at least 1024",
    "compact_interval_seconds": "0 (never) or more",
    "compact_min_files": "at least 2",
    "raw_retention_days": f"a whole number of days from 1 to {MAX_DAYS:,} (leave it out to "
    "keep the store's own setting, `teiten store retention`)",
    "log_level": "one of debug, info, warning, error",
}


def load_config(path: str | os.PathLike[str]) -> CollectorConfig:
    """Read and validate ``collector.toml``; raise :class:`CollectorConfigError`."""
    path = Path(path)
    return config_from_dict(read_toml(path, CollectorConfigError), path)


def config_from_dict(data: dict[str, Any], path: str | os.PathLike[str]) -> CollectorConfig:
    """Validate parsed TOML (``path`` names the file and anchors relative paths)."""
    values = read_settings(data, path, _KEYS, _LIMITS, CollectorConfigError)
    if "store" not in values:
        raise CollectorConfigError(path, "store.path is required: the store directory to write")
    check_files(values, _FILES, path, CollectorConfigError)
    return CollectorConfig(**values)
