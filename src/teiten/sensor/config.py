"""``sensor.toml``: what a live sensor captures, where it spools, where it uploads.

The file is validated when it loads (unknown sections or keys, wrong types,
impossible values and bad prefixes are errors naming the key), never later.
Because it holds the collector's bearer token, a file that others can read is
refused. Relative paths are relative to the file's folder. Every key is
described in ``docs/sensor.md`` and ``docs/examples/sensor.toml``.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teiten.errors import TeitenError

__all__ = [
    "DEFAULT_HTTP_PORT",
    "SPOOL_POLICIES",
    "PcapConfig",
    "SensorConfig",
    "SensorConfigError",
    "UploadConfig",
    "config_from_dict",
    "load_config",
]

DEFAULT_HTTP_PORT = 8751
SPOOL_POLICIES = ("drop-newest", "drop-oldest")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SensorConfigError(TeitenError):
    """``sensor.toml`` cannot be read, is readable by others, or has a bad key."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        self.path = str(path)
        super().__init__(f"{self.path}: {message}")


@dataclass(frozen=True)
class UploadConfig:
    """Where and how spooled batches go to the collector."""

    url: str
    token: str
    ca_file: Path | None = None
    timeout: float = 30.0
    backoff_initial: float = 1.0
    backoff_max: float = 300.0

    def __repr__(self) -> str:  # the token never appears in logs or tracebacks
        return f"UploadConfig(url={self.url!r}, token=<hidden>, ca_file={self.ca_file!r})"


@dataclass(frozen=True)
class PcapConfig:
    """Optional raw pcap files of what was captured, rotated by size and age."""

    dir: Path
    rotate_bytes: int = 100 << 20
    rotate_seconds: float = 3600.0
    keep: int = 24


@dataclass(frozen=True)
class SensorConfig:
    """The sensor's settings (defaults are the documented ones)."""

    name: str
    interface: str
    prefixes: tuple[Network, ...]
    spool_dir: Path
    snaplen: int = 256
    promiscuous: bool = True
    ring_bytes: int = 64 << 20
    block_bytes: int = 1 << 20
    batch_packets: int = 262_144
    batch_seconds: float = 1.0
    spool_max_bytes: int = 1 << 30
    spool_policy: str = "drop-oldest"
    upload: UploadConfig | None = None
    http_host: str = "127.0.0.1"
    http_port: int = DEFAULT_HTTP_PORT
    pcap: PcapConfig | None = None
    log_level: str = "info"

    def __repr__(self) -> str:  # prefixes are secret: never in logs at info level
        return (
            f"SensorConfig(name={self.name!r}, interface={self.interface!r}, "
            f"prefixes=<{len(self.prefixes)} hidden>, spool_dir={str(self.spool_dir)!r})"
        )


def _positive(v: Any) -> bool:
    return v > 0


# section -> key -> (field name, type, check or None, what the check demands)
_Key = tuple[str, type, Any, str]
_KEYS: dict[str, dict[str, _Key]] = {
    "sensor": {
        "name": ("name", str, lambda v: bool(v.strip()), "a non-empty label"),
        "interface": ("interface", str, lambda v: 0 < len(v) < 16, "an interface name"),
        "prefixes": ("prefixes", list, lambda v: len(v) > 0, "a non-empty list of CIDRs"),
        "snaplen": ("snaplen", int, lambda v: 64 <= v <= 65535, "between 64 and 65535"),
        "promiscuous": ("promiscuous", bool, None, ""),
        "ring_mb": ("ring_bytes", int, lambda v: 1 <= v <= 4096, "between 1 and 4096"),
        "block_kb": ("block_bytes", int, lambda v: v in (64, 128, 256, 512, 1024, 2048, 4096),
                     "a power of two between 64 and 4096"),
        "batch_packets": ("batch_packets", int, lambda v: 1 <= v <= 2_000_000,
                          "between 1 and 2000000"),
        "batch_seconds": ("batch_seconds", float, lambda v: 0.05 <= v <= 3600,
                          "between 0.05 and 3600"),
    },
    "spool": {
        "dir": ("spool_dir", Path, None, ""),
        "max_mb": ("spool_max_bytes", int, _positive, "at least 1"),
        "policy": ("spool_policy", str, lambda v: v in SPOOL_POLICIES, " or ".join(SPOOL_POLICIES)),
    },
    "upload": {
        "url": ("url", str, lambda v: v.startswith(("http://", "https://")),
                "an http:// or https:// URL"),
        "token": ("token", str, lambda v: len(v) >= 16, "the token `teiten sensors add` printed"),
        "ca_file": ("ca_file", Path, None, ""),
        "timeout": ("timeout", float, _positive, "more than 0"),
        "backoff_initial": ("backoff_initial", float, _positive, "more than 0"),
        "backoff_max": ("backoff_max", float, _positive, "more than 0"),
    },
    "http": {
        "host": ("http_host", str, lambda v: bool(v), "a host name or address"),
        "port": ("http_port", int, lambda v: 0 <= v <= 65535, "between 0 and 65535"),
    },
    "pcap": {
        "dir": ("dir", Path, None, ""),
        "rotate_mb": ("rotate_bytes", int, _positive, "at least 1"),
        "rotate_seconds": ("rotate_seconds", float, _positive, "more than 0"),
        "keep": ("keep", int, _positive, "at least 1"),
    },
    "log": {
        "level": ("log_level", str, lambda v: v in ("debug", "info", "warning", "error"),
                  "one of debug, info, warning, error"),
    },
}
_SCALE = {"ring_bytes": 1 << 20, "block_bytes": 1 << 10, "spool_max_bytes": 1 << 20,
          "rotate_bytes": 1 << 20}  # fmt: skip
_REQUIRED = {"sensor": ("name", "interface", "prefixes"), "spool": ("dir",),
             "upload": ("url", "token"), "pcap": ("dir",)}  # fmt: skip


def load_config(path: str | os.PathLike[str]) -> SensorConfig:
    """Read and validate ``sensor.toml``; raise :class:`SensorConfigError`."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SensorConfigError(path, f"cannot read it: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise SensorConfigError(path, f"not UTF-8 text: {exc}") from exc
    if mode & (stat.S_IROTH | stat.S_IWOTH):
        raise SensorConfigError(
            path,
            f"the file is readable or writable by every user (mode {stat.S_IMODE(mode):04o}) "
            f"and holds the collector token; run `chmod 600 {path}`",
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SensorConfigError(path, f"not valid TOML: {exc}") from exc
    return config_from_dict(data, path)


def config_from_dict(data: dict[str, Any], path: str | os.PathLike[str]) -> SensorConfig:
    """Validate parsed TOML (``path`` names the file and anchors relative paths)."""
    base = Path(path).resolve().parent
    sections: dict[str, dict[str, Any]] = {}
    for section, table in data.items():
        keys = _KEYS.get(section)
        if keys is None or not isinstance(table, dict):
            known = ", ".join(f"[{s}]" for s in _KEYS)
            raise SensorConfigError(path, f"unknown section {section!r}; sections: {known}")
        values = sections.setdefault(section, {})
        for key, value in table.items():
            if key not in keys:
                raise SensorConfigError(
                    path, f"[{section}] has no key {key!r}; keys: {', '.join(keys)}"
                )
            name, kind, check, demand = keys[key]
            value = _value(path, base, f"{section}.{key}", value, kind, check, demand)
            values[name] = value * _SCALE.get(name, 1) if kind is int else value
    for section in ("sensor", "spool"):
        if section not in sections:
            raise SensorConfigError(path, f"the [{section}] section is required")
    for section, required in _REQUIRED.items():
        if section in sections:
            keys = _KEYS[section]
            for key in required:
                if keys[key][0] not in sections[section]:
                    raise SensorConfigError(path, f"{section}.{key} is required")
    sensor = sections["sensor"]
    sensor["prefixes"] = _prefixes(path, sensor["prefixes"])
    block = sensor.get("block_bytes", SensorConfig.block_bytes)
    if sensor.get("ring_bytes", SensorConfig.ring_bytes) < 4 * block:
        raise SensorConfigError(path, "sensor.ring_mb must hold at least 4 blocks of block_kb")
    if sensor.get("snaplen", SensorConfig.snaplen) > block - 256:
        raise SensorConfigError(path, "sensor.snaplen must fit in a ring block (block_kb)")
    upload = sections.get("upload")
    if upload is not None:
        ca = upload.get("ca_file")
        if ca is not None and not ca.is_file():
            raise SensorConfigError(path, f"upload.ca_file: no such file {ca}")
        if upload.get("backoff_max", 300.0) < upload.get("backoff_initial", 1.0):
            raise SensorConfigError(path, "upload.backoff_max must be ≥ upload.backoff_initial")
    return SensorConfig(
        **sensor,
        **sections["spool"],
        **sections.get("http", {}),
        **sections.get("log", {}),
        upload=UploadConfig(**upload) if upload is not None else None,
        pcap=PcapConfig(**sections["pcap"]) if "pcap" in sections else None,
    )


def _prefixes(path: str | os.PathLike[str], values: list[Any]) -> tuple[Network, ...]:
    nets: list[Network] = []
    for i, text in enumerate(values):
        if not isinstance(text, str):
            raise SensorConfigError(path, f"sensor.prefixes[{i}] must be a CIDR string")
        try:
            nets.append(ipaddress.ip_network(text.strip(), strict=True))
        except ValueError as exc:
            # the value is secret, so the message names its position, not the prefix
            raise SensorConfigError(
                path, f"sensor.prefixes[{i}] is not a CIDR prefix with zero host bits ({exc})"
            ) from None
    v4 = ipaddress.collapse_addresses(n for n in nets if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in nets if n.version == 6)
    return (*v4, *v6)


def _value(
    path: str | os.PathLike[str],
    base: Path,
    key: str,
    value: Any,
    kind: type,
    check: Any,
    demand: str,
) -> Any:
    if kind is Path:
        if not isinstance(value, str) or not value:
            raise SensorConfigError(path, f"{key} must be a non-empty path string")
        resolved = Path(value).expanduser()
        return resolved if resolved.is_absolute() else base / resolved
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SensorConfigError(path, f"{key} must be an integer, not {value!r}")
    if not isinstance(value, kind):
        raise SensorConfigError(path, f"{key} must be a {kind.__name__}, not {value!r}")
    if check is not None and not check(value):
        shown = "<hidden>" if key == "upload.token" else repr(value)
        raise SensorConfigError(path, f"{key} must be {demand}, not {shown}")
    return value
