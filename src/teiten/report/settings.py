"""``report.toml``: who publishes a report, and what it may publish.

Every key is optional; the file is validated when it loads (unknown sections or
keys, wrong types and impossible values are errors naming the key, see
:mod:`teiten.settings_file`). See ``docs/report.md`` and ``docs/examples/report.toml``.

The two publication switches default to the safe side: no sensor count and no
darknet size (nor a pair of numbers that gives them), and per-day values rounded.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import blake3

from teiten.errors import SettingsFileError
from teiten.settings_file import Keys, read_settings, read_toml

__all__ = ["DEFAULT_TIMEZONES", "TLP_LABELS", "ConfigFile", "ReportSettings", "load_settings"]

# the time zone a report's times are written in when report.toml sets none
DEFAULT_TIMEZONES = {"ja": "Asia/Tokyo", "en": "UTC"}
TLP_LABELS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED")  # FIRST TLP 2.0


@dataclass(frozen=True)
class ConfigFile:
    """The file settings were read from: its name and the BLAKE3 of its bytes."""

    name: str
    digest: str  # "blake3:<hex>"


@dataclass(frozen=True)
class ReportSettings:
    """A publishing organisation's report settings (defaults are the documented ones)."""

    organisation_ja: str | None = None
    organisation_en: str | None = None
    title_ja: str | None = None
    title_en: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None
    disclaimer_ja: str | None = None
    disclaimer_en: str | None = None
    timezone: str | None = None  # IANA name; None: DEFAULT_TIMEZONES by language
    publish_sensor_counts: bool = False
    exact_daily_counts: bool = False
    tlp: str | None = None
    file: ConfigFile | None = None  # where they were read from (not a key)

    def organisation(self, lang: str) -> str | None:
        """The organisation's name in ``lang``, else in the other language."""
        return _either(lang, self.organisation_ja, self.organisation_en)

    def title(self, lang: str) -> str | None:
        return _either(lang, self.title_ja, self.title_en)

    def disclaimer(self, lang: str) -> str | None:
        return _either(lang, self.disclaimer_ja, self.disclaimer_en)

    def zone(self, lang: str) -> ZoneInfo:
        """The time zone every time of a report in ``lang`` is written in."""
        return ZoneInfo(self.timezone or DEFAULT_TIMEZONES[lang])


def _either(lang: str, ja: str | None, en: str | None) -> str | None:
    return (ja or en) if lang == "ja" else (en or ja)


def _text(value: str) -> bool:
    return bool(value.strip())


def _zone(value: str) -> bool:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# section -> key -> (field name, type, check or None)
_KEYS: Keys = {
    "organisation": {
        "ja": ("organisation_ja", str, _text),
        "en": ("organisation_en", str, _text),
    },
    "title": {
        "ja": ("title_ja", str, _text),
        "en": ("title_en", str, _text),
    },
    "contact": {
        "email": (
            "contact_email",
            str,
            lambda v: bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v)),
        ),
        "url": ("contact_url", str, lambda v: bool(re.fullmatch(r"https?://\S+", v))),
    },
    "disclaimer": {
        "ja": ("disclaimer_ja", str, _text),
        "en": ("disclaimer_en", str, _text),
    },
    "publication": {
        "timezone": ("timezone", str, _zone),
        "publish_sensor_counts": ("publish_sensor_counts", bool, None),
        "exact_daily_counts": ("exact_daily_counts", bool, None),
        "tlp": ("tlp", str, lambda v: v in TLP_LABELS),
    },
}
_LIMITS = {
    name: "a non-empty text"
    for name in (
        "organisation_ja",
        "organisation_en",
        "title_ja",
        "title_en",
        "disclaimer_ja",
        "disclaimer_en",
    )
} | {
    "contact_email": "an e-mail address such as csirt@example.jp",
    "contact_url": "an http:// or https:// URL",
    "timezone": "an IANA time zone name such as Asia/Tokyo or UTC",
    "tlp": f"one of {', '.join(TLP_LABELS)} (TLP 2.0, without the 'TLP:')",
}


def load_settings(path: str | os.PathLike[str]) -> ReportSettings:
    """Read and validate ``report.toml``; raise :class:`SettingsFileError` naming the key."""
    path = Path(path)
    data: dict[str, Any] = read_toml(path, SettingsFileError)
    values = read_settings(data, path, _KEYS, _LIMITS, SettingsFileError)
    digest = blake3.blake3(path.read_bytes()).hexdigest()
    return ReportSettings(**values, file=ConfigFile(path.name, f"blake3:{digest}"))
