"""``notify.toml``: who receives a feed of which findings, about which networks, and how.

Validated when it loads (unknown sections or keys, wrong types, impossible values and a
credentials file others may read are errors naming the file and key), by the same table
of keys as every settings file (:mod:`teiten.settings_file`). Each ``[[recipient]]`` is
read as the section ``recipient.NAME`` and its ``[recipient.delivery]`` as
``recipient.NAME.delivery``, so a message names the recipient. Relative paths are
relative to the file's folder. Secrets are never read into the configuration: a
:class:`Credentials` holds the path of its file, checked here (owner-only permissions,
the keys its transport needs) and read only when a feed is sent. See ``docs/notify.md``
and ``docs/examples/notify.toml``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from teiten.errors import NotifyConfigError, OptionError
from teiten.notify.findings import KINDS, NOT_OFFERED, Thresholds
from teiten.settings_file import Keys, read_settings, read_toml

__all__ = [
    "DELIVERY_KINDS",
    "TLP",
    "Credentials",
    "Delivery",
    "NotifyConfig",
    "Recipient",
    "load_config",
]

TLP = {
    "clear": "TLP:CLEAR",
    "green": "TLP:GREEN",
    "amber": "TLP:AMBER",
    "amber+strict": "TLP:AMBER+STRICT",
    "red": "TLP:RED",
}  # FIRST's Traffic Light Protocol 2.0
DELIVERY_KINDS = ("directory", "smtp", "https")
SECURITY = ("starttls", "tls", "none")
UNCERTAIN = ("resend", "hold")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # also a folder name
_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")
_SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_SECRETS = {"smtp": ("username", "password"), "https": ("token",)}


@dataclass(frozen=True)
class Credentials:
    """A credentials file (TOML: ``username`` and ``password`` for SMTP, ``token`` for
    HTTPS): only its path is kept; :meth:`read` reads it when a feed is sent."""

    path: Path
    kind: str  # the transport it is for: smtp or https

    def read(self) -> dict[str, str]:
        """The secrets (checked again: the file may have changed since it loaded)."""
        return check_credentials(self.path, self.kind, self.path, NotifyConfigError)


@dataclass(frozen=True)
class Delivery:
    """How a recipient's feeds travel: ``kind`` and the settings of that kind."""

    kind: str  # directory | smtp | https
    path: Path | None = None  # directory
    host: str | None = None  # smtp
    port: int | None = None
    security: str = "starttls"
    sender: str | None = None  # the key `from`
    to: tuple[str, ...] = ()
    url: str | None = None  # https
    credentials: Credentials | None = None
    ca_file: Path | None = None
    timeout_seconds: float = 30.0
    retries: int = 4
    backoff_seconds: float = 2.0
    on_uncertain: str = "resend"

    def describe(self) -> str:
        """Where it goes, in a few words (no secret)."""
        if self.kind == "directory":
            return f"directory {self.path}"
        if self.kind == "smtp":
            return f"smtp {', '.join(self.to)} via {self.host}:{self.port} ({self.security})"
        return f"https POST {self.url}"


@dataclass(frozen=True)
class Recipient:
    """Who receives a feed: the sources it covers (in any of ``asns``, ``prefixes`` or
    ``countries``), the finding kinds it receives, its TLP and its delivery."""

    name: str
    delivery: Delivery
    asns: tuple[int, ...] = ()
    prefixes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    findings: tuple[str, ...] = tuple(KINDS)
    tlp: str | None = None  # None: [feed] tlp
    send_empty: bool = False


@dataclass(frozen=True)
class NotifyConfig:
    """The validated file: the recipients and what every feed shares."""

    path: Path
    recipients: tuple[Recipient, ...]
    tlp: str = "amber"
    organisation: str | None = None
    contact: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)

    def kinds(self) -> list[str]:
        """The finding kinds any recipient receives."""
        return sorted({k for r in self.recipients for k in r.findings})

    def recipient(self, name: str) -> Recipient:
        for r in self.recipients:
            if r.name == name:
                return r
        raise OptionError(f"{self.path}: no recipient named {name!r}")

    def as_json(self) -> dict[str, Any]:
        """The settings as loaded (paths as text; credentials by path only)."""
        return {
            "path": str(self.path),
            "tlp": TLP[self.tlp],
            "organisation": self.organisation,
            "contact": self.contact,
            "findings": {
                "smb_worm_min_packets": self.thresholds.smb_worm_min_packets,
                "smb_worm_min_share": self.thresholds.smb_worm_min_share,
            },
            "recipients": [_recipient_json(r, self.tlp) for r in self.recipients],
        }


def _recipient_json(r: Recipient, tlp: str) -> dict[str, Any]:
    d = r.delivery
    delivery: dict[str, Any] = {"kind": d.kind, "to": d.describe()}
    if d.credentials is not None:
        delivery["credentials"] = str(d.credentials.path)
    if d.kind != "directory":
        delivery |= {"retries": d.retries, "on_uncertain": d.on_uncertain}
    return {
        "name": r.name,
        "asns": list(r.asns),
        "prefixes": list(r.prefixes),
        "countries": list(r.countries),
        "findings": list(r.findings),
        "tlp": TLP[r.tlp or tlp],
        "send_empty": r.send_empty,
        "delivery": delivery,
    }


def _all(check: Callable[[Any], bool]) -> Callable[[list[Any]], bool]:
    return lambda values: all(check(v) for v in values)


def _is_network(text: Any) -> bool:
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except (AttributeError, ValueError):
        return False
    return True


def _is_asn(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 32


_TOP: Keys = {
    "feed": {
        "tlp": ("tlp", str, lambda v: v in TLP),
        "organisation": ("organisation", str, lambda v: bool(v.strip())),
        "contact": ("contact", str, lambda v: bool(v.strip())),
    },
    "findings": {
        "smb_worm_min_packets": ("smb_worm_min_packets", int, lambda v: v >= 1),
        "smb_worm_min_share": ("smb_worm_min_share", float, lambda v: 0 < v <= 1),
    },
}
_RECIPIENT = {
    "name": ("name", str, lambda v: bool(_NAME.fullmatch(v))),
    "asns": ("asns", list, _all(_is_asn)),
    "prefixes": ("prefixes", list, _all(_is_network)),
    "countries": ("countries", list, _all(lambda v: isinstance(v, str) and bool(v.strip()))),
    "findings": ("findings", list, lambda v: bool(v) and all(isinstance(x, str) for x in v)),
    "tlp": ("tlp", str, lambda v: v in TLP),
    "send_empty": ("send_empty", bool, None),
}
_DELIVERY = {
    "kind": ("kind", str, lambda v: v in DELIVERY_KINDS),
    "path": ("path", Path, None),
    "host": ("host", str, lambda v: bool(v.strip())),
    "port": ("port", int, lambda v: 1 <= v <= 65535),
    "security": ("security", str, lambda v: v in SECURITY),
    "from": ("sender", str, lambda v: bool(_ADDRESS.fullmatch(v))),
    "to": ("to", list, lambda v: bool(v) and _all(lambda a: bool(_ADDRESS.fullmatch(a)))(v)),
    "url": ("url", str, lambda v: v.startswith(("https://", "http://"))),
    "credentials": ("credentials", Path, None),
    "ca_file": ("ca_file", Path, None),
    "timeout_seconds": ("timeout_seconds", float, lambda v: v > 0),
    "retries": ("retries", int, lambda v: 0 <= v <= 20),
    "backoff_seconds": ("backoff_seconds", float, lambda v: 0 <= v <= 3600),
    "on_uncertain": ("on_uncertain", str, lambda v: v in UNCERTAIN),
}
# Which delivery keys each kind takes (besides `kind`).
_APPLIES = {
    "directory": {"path"},
    "smtp": {"host", "port", "security", "from", "to", "credentials", "ca_file"},
    "https": {"url", "credentials", "ca_file"},
}
_COMMON = {"timeout_seconds", "retries", "backoff_seconds", "on_uncertain"}
_REQUIRED = {"directory": ("path",), "smtp": ("host", "from", "to"), "https": ("url",)}
_LIMITS = {
    "tlp": f"one of {', '.join(TLP)}",
    "organisation": "a non-empty name",
    "contact": "a non-empty address",
    "smb_worm_min_packets": "at least 1",
    "smb_worm_min_share": "a share in (0, 1], e.g. 0.9",
    "name": "a label of letters, digits, '.', '_' or '-' (at most 64, starting with a "
    "letter or digit)",
    "asns": "a list of AS numbers (0 … 4294967295)",
    "prefixes": 'a list of networks such as "192.0.2.0/24" or "2001:db8::/32"',
    "countries": 'a list of country codes or names such as "JP"',
    "findings": f"a non-empty list of finding kinds ({', '.join(KINDS)})",
    "kind": f"one of {', '.join(DELIVERY_KINDS)}",
    "host": "a host name or address",
    "port": "between 1 and 65535",
    "security": f"one of {', '.join(SECURITY)}",
    "sender": "an e-mail address",
    "to": "a non-empty list of e-mail addresses",
    "url": "an https:// URL",
    "timeout_seconds": "positive",
    "retries": "from 0 to 20",
    "backoff_seconds": "from 0 to 3600",
    "on_uncertain": f"one of {', '.join(UNCERTAIN)}",
}


def load_config(path: str | os.PathLike[str]) -> NotifyConfig:
    """Read and validate ``notify.toml``; raise :class:`NotifyConfigError`."""
    path = Path(path)
    return config_from_dict(read_toml(path, NotifyConfigError), path)


def config_from_dict(data: dict[str, Any], path: str | os.PathLike[str]) -> NotifyConfig:
    """Validate parsed TOML (``path`` names the file and anchors relative paths)."""
    path = Path(path)
    data = dict(data)
    tables = data.pop("recipient", None)
    unknown = [s for s in data if s not in _TOP]
    if unknown:
        raise NotifyConfigError(
            path, f"unknown section {unknown[0]!r}; sections: [feed], [findings], [[recipient]]"
        )
    values = read_settings(data, path, _TOP, _LIMITS, NotifyConfigError)
    if not isinstance(tables, list) or not tables:
        raise NotifyConfigError(
            path, "no [[recipient]]: give at least one (see docs/examples/notify.toml)"
        )
    recipients = tuple(_recipient(t, i, path) for i, t in enumerate(tables, 1))
    names = [r.name for r in recipients]
    for name in names:
        if names.count(name) > 1:
            raise NotifyConfigError(path, f"recipient {name!r} is named twice: names are unique")
    thresholds = {k: values.pop(k) for k in ("smb_worm_min_packets", "smb_worm_min_share")
                  if k in values}  # fmt: skip
    return NotifyConfig(path, recipients, thresholds=Thresholds(**thresholds), **values)


def _recipient(table: Any, number: int, path: Path) -> Recipient:
    if not isinstance(table, dict):
        raise NotifyConfigError(path, f"recipient {number} must be a table ([[recipient]])")
    table = dict(table)
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NotifyConfigError(
            path, f"recipient {number}: name is required, {_LIMITS['name']}, not {name!r}"
        )
    label = f"recipient.{name}"
    delivery = table.pop("delivery", None)
    values = read_settings({label: table}, path, {label: _RECIPIENT}, _LIMITS, NotifyConfigError)
    if not delivery or not isinstance(delivery, dict):
        raise NotifyConfigError(path, f"{label}.delivery is required: a table with its kind")
    values["delivery"] = _delivery(delivery, f"{label}.delivery", path)
    return Recipient(**_filters(values, label, path))


def _filters(values: dict[str, Any], label: str, path: Path) -> dict[str, Any]:
    """The recipient's networks and kinds, normalised and checked."""
    from teiten.analyze.rankings import network_text
    from teiten.enrich.countries import country_code

    if not any(values.get(k) for k in ("asns", "prefixes", "countries")):
        raise NotifyConfigError(
            path, f"{label}: give asns, prefixes or countries (the networks it is told about)"
        )
    values["asns"] = tuple(sorted(set(values.get("asns", ()))))
    values["prefixes"] = tuple(network_text(p) for p in values.get("prefixes", ()))
    try:
        values["countries"] = tuple(country_code(c) for c in values.get("countries", ()))
    except OptionError as exc:
        raise NotifyConfigError(path, f"{label}.countries: {exc}") from exc
    for kind in values.get("findings", ()):
        if kind in NOT_OFFERED:
            raise NotifyConfigError(
                path, f"{label}.findings: {kind} is not offered: {NOT_OFFERED[kind]}"
            )
        if kind not in KINDS:
            raise NotifyConfigError(
                path, f"{label}.findings: unknown kind {kind!r}; kinds: {', '.join(KINDS)}"
            )
    if "findings" in values:
        values["findings"] = tuple(dict.fromkeys(values["findings"]))
    return values


def _delivery(table: dict[str, Any], label: str, path: Path) -> Delivery:
    kind = table.get("kind")
    if kind not in DELIVERY_KINDS:
        raise NotifyConfigError(
            path, f"{label}.kind is required, one of {', '.join(DELIVERY_KINDS)}, not {kind!r}"
        )
    allowed = _APPLIES[kind] | _COMMON | {"kind"}
    for key in table:
        if key in _DELIVERY and key not in allowed:
            raise NotifyConfigError(path, f"{label}.{key} does not apply to kind {kind!r}")
    values = read_settings({label: table}, path, {label: _DELIVERY}, _LIMITS, NotifyConfigError)
    for key in _REQUIRED[kind]:
        if _DELIVERY[key][0] not in values:
            raise NotifyConfigError(path, f"{label}.{key} is required for kind {kind!r}")
    if "to" in values:
        values["to"] = tuple(values["to"])
    if kind == "smtp":
        values.setdefault("port", _SMTP_PORTS[values.get("security", "starttls")])
    if kind == "https":
        _check_url(values["url"], label, path)
    if "credentials" in values:
        if values.get("security") == "none":
            raise NotifyConfigError(
                path, f'{label}: credentials are never sent without TLS (security = "none")'
            )
        check_credentials(values["credentials"], kind, path, NotifyConfigError)
        values["credentials"] = Credentials(values["credentials"], kind)
    ca = values.get("ca_file")
    if ca is not None and not ca.is_file():
        raise NotifyConfigError(path, f"{label}.ca_file: no such file {ca}")
    return Delivery(**values)


def _check_url(url: str, label: str, path: Path) -> None:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        raise NotifyConfigError(path, f"{label}.url {url!r} has no host")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "::1", "localhost"):
        raise NotifyConfigError(
            path, f"{label}.url must be https:// (plain http only to a loopback address)"
        )


def check_credentials(
    file: Path, kind: str, path: str | os.PathLike[str], error: type[NotifyConfigError]
) -> dict[str, str]:
    """The secrets of a credentials file for transport ``kind``, after checking that only
    its owner may read it and that it has exactly the keys ``kind`` needs. Messages name
    the file and the keys, never a value."""
    try:
        mode = file.stat().st_mode
    except OSError as exc:
        raise error(path, f"credentials file {file}: {exc.strerror or exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise error(path, f"credentials file {file} can be read by others; run: chmod 600 {file}")
    data = read_toml(file, error)
    wanted = _SECRETS[kind]
    extra = sorted(set(data) - set(wanted))
    if extra:
        raise error(path, f"credentials file {file}: unknown key {extra[0]!r}; keys: "
                    f"{', '.join(wanted)}")  # fmt: skip
    for key in wanted:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise error(path, f"credentials file {file}: {key} is required (a string)")
    return {key: data[key] for key in wanted}
