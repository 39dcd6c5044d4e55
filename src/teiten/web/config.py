"""``web.toml``: which store ``teiten serve`` shows, where it listens, to whom, its limits.

Every key is optional (``teiten serve --store DIR`` may name the store); the file
is validated when it loads (unknown sections or keys, wrong types and impossible
values are errors naming the key), never per request. Relative paths are
relative to the file's folder. See ``docs/web.md`` and ``docs/examples/web.toml``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teiten.errors import WebConfigError
from teiten.settings_file import Keys, check_files, read_settings, read_toml

__all__ = ["DEFAULT_PORT", "WebConfig", "load_config"]

DEFAULT_PORT = 8752
MAX_DELAY_HOURS = 8760  # a year


@dataclass(frozen=True)
class WebConfig:
    """The web service's settings (defaults are the documented ones)."""

    store: Path | None = None
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    certfile: Path | None = None
    keyfile: Path | None = None
    engine: str | None = None  # None: $TEITEN_ENGINE, else duckdb
    public: bool = False
    publication_delay_hours: int = 0
    requests_per_minute: int = 120
    burst: int = 60  # an overview page asks for about 22 answers at once
    cache_entries: int = 512
    warm: bool = True  # make the dashboard's standard answers whenever the store changes
    log_level: str = "info"

    @property
    def tls(self) -> bool:
        return self.certfile is not None


# section -> key -> (field name, type, check or None)
_KEYS: Keys = {
    "store": {
        "path": ("store", Path, None),
        "engine": ("engine", str, lambda v: v in ("duckdb", "spark")),
    },
    "listen": {
        "host": ("host", str, lambda v: v != ""),
        "port": ("port", int, lambda v: 0 <= v <= 65535),
        "certfile": ("certfile", Path, None),
        "keyfile": ("keyfile", Path, None),
    },
    "access": {
        "public": ("public", bool, None),
        "publication_delay_hours": (
            "publication_delay_hours",
            int,
            lambda v: 0 <= v <= MAX_DELAY_HOURS,
        ),
    },
    "limits": {
        "requests_per_minute": ("requests_per_minute", int, lambda v: v >= 1),
        "burst": ("burst", int, lambda v: v >= 1),
        "cache_entries": ("cache_entries", int, lambda v: v >= 0),
    },
    "cache": {
        "warm": ("warm", bool, None),
    },
    "log": {
        "level": ("log_level", str, lambda v: v in ("debug", "info", "warning", "error")),
    },
}
_LIMITS = {
    "engine": "duckdb or spark (leave it out for $TEITEN_ENGINE, else duckdb)",
    "host": 'an address or host name, such as "127.0.0.1" or "0.0.0.0"',
    "port": "between 0 and 65535",
    "publication_delay_hours": f"a whole number of hours from 0 to {MAX_DELAY_HOURS:,}",
    "cache_entries": "0 (no cache) or more",
    "log_level": "one of debug, info, warning, error",
}


def load_config(path: str | os.PathLike[str]) -> WebConfig:
    """Read and validate ``web.toml``; raise :class:`WebConfigError`."""
    path = Path(path)
    return config_from_dict(read_toml(path, WebConfigError), path)


def config_from_dict(data: dict[str, Any], path: str | os.PathLike[str]) -> WebConfig:
    """Validate parsed TOML (``path`` names the file and anchors relative paths)."""
    values = read_settings(data, path, _KEYS, _LIMITS, WebConfigError)
    check_files(values, ("listen.certfile", "listen.keyfile"), path, WebConfigError)
    return WebConfig(**values)
