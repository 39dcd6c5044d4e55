"""``sensor.toml``: the sensor's label, its collector, its token and its spool.

Validated when it loads (unknown keys, wrong types, impossible values are errors
naming the key). The token is read from ``collector.token_file`` — a file only
its owner may read; a token file others can read is refused, so the secret does
not leak through a careless ``chmod``. See ``docs/sensor.md``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from teiten.errors import SensorConfigError
from teiten.sensor.spool import POLICIES, Policy
from teiten.settings_file import Keys, read_settings, read_toml

__all__ = ["SensorConfig", "load_sensor_config"]

_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class SensorConfig:
    name: str
    url: str
    token_file: Path
    spool: Path
    ca_file: Path | None = None
    timeout_seconds: float = 30.0
    spool_max_bytes: int = 10 << 30
    spool_policy: Policy = "drop-oldest"
    batch_packets: int = 100_000
    batch_seconds: float = 10.0
    interface: str | None = None
    prefixes: tuple[str, ...] = ()
    pcap_path: Path | None = None
    pcap_rotate_bytes: int = 1 << 30
    pcap_rotate_seconds: float = 3600.0
    pcap_keep: int = 24
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = 8751

    def token(self) -> str:
        """The sensor's token (never logged)."""
        return self.token_file.read_text(encoding="utf-8").strip()


def _prefixes_ok(values: list[Any]) -> bool:
    try:
        return bool(values) and all(ipaddress.ip_network(v) is not None for v in values)
    except (TypeError, ValueError):
        return False


_KEYS: Keys = {
    "sensor": {"name": ("name", str, lambda v: bool(_LABEL.match(v)))},
    "collector": {
        "url": ("url", str, lambda v: v.startswith(("http://", "https://"))),
        "token_file": ("token_file", Path, None),
        "ca_file": ("ca_file", Path, None),
        "timeout_seconds": ("timeout_seconds", float, lambda v: v > 0),
    },
    "spool": {
        "path": ("spool", Path, None),
        "max_bytes": ("spool_max_bytes", int, lambda v: v >= 1 << 20),
        "policy": ("spool_policy", str, lambda v: v in POLICIES),
    },
    "batch": {
        "max_packets": ("batch_packets", int, lambda v: v >= 1),
        "max_seconds": ("batch_seconds", float, lambda v: v > 0),
    },
    "pcap": {
        "path": ("pcap_path", Path, None),
        "rotate_bytes": ("pcap_rotate_bytes", int, lambda v: v >= 1 << 16),
        "rotate_seconds": ("pcap_rotate_seconds", float, lambda v: v > 0),
        "keep": ("pcap_keep", int, lambda v: v >= 1),
    },
    "metrics": {
        "host": ("metrics_host", str, lambda v: bool(v)),
        "port": ("metrics_port", int, lambda v: 0 <= v <= 65535),
    },
    "capture": {
        "interface": ("interface", str, lambda v: bool(v)),
        "prefixes": ("prefixes", list, _prefixes_ok),
    },
}
_LIMITS = {
    "name": "a label of letters, digits, '.', '_' or '-' (at most 64)",
    "url": "an http:// or https:// URL of the collector",
    "timeout_seconds": "positive",
    "spool_max_bytes": "at least 1048576 (1 MiB)",
    "spool_policy": f"one of {', '.join(POLICIES)}",
    "prefixes": 'a non-empty list of IPv4/IPv6 prefixes such as "192.0.2.0/24"',
}
_REQUIRED = {"name": "sensor.name", "url": "collector.url", "token_file": "collector.token_file",
             "spool": "spool.path"}  # fmt: skip


def load_sensor_config(path: str | os.PathLike[str]) -> SensorConfig:
    """Read and validate ``sensor.toml``; raise :class:`SensorConfigError`."""
    path = Path(path)
    return sensor_config_from_dict(read_toml(path, SensorConfigError), path)


def sensor_config_from_dict(data: dict[str, Any], path: str | os.PathLike[str]) -> SensorConfig:
    values = read_settings(data, path, _KEYS, _LIMITS, SensorConfigError)
    for name, key in _REQUIRED.items():
        if name not in values:
            raise SensorConfigError(path, f"{key} is required")
    token_file: Path = values["token_file"]
    try:
        mode = token_file.stat().st_mode
    except OSError as exc:
        raise SensorConfigError(
            path, f"collector.token_file {token_file}: {exc.strerror or exc}"
        ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SensorConfigError(
            path,
            f"collector.token_file {token_file} can be read by others; run: chmod 600 {token_file}",
        )
    ca = values.get("ca_file")
    if ca is not None and not ca.is_file():
        raise SensorConfigError(path, f"collector.ca_file: no such file {ca}")
    if "prefixes" in values:
        values["prefixes"] = tuple(values["prefixes"])
    return SensorConfig(**values)
