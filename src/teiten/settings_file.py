"""Reading a TOML settings file against a table of known keys (collector.toml, sensor.toml).

Each file format declares ``section -> key -> (field name, type, check or None)``;
unknown sections or keys, wrong types and impossible values are errors naming the
file and the key. Relative paths are relative to the file's folder. A TLS pair
(``listen.certfile`` and ``listen.keyfile``) is loaded as the server will load it, so
an unreadable key is an error of the file, not of the server starting later.
"""

from __future__ import annotations

import os
import ssl
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from teiten.errors import SettingsFileError

__all__ = ["Keys", "check_files", "read_settings"]

Keys = dict[str, dict[str, tuple[str, type, Callable[[Any], bool] | None]]]


def read_toml(path: Path, error: type[SettingsFileError]) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(path, f"cannot read it: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise error(path, f"not valid TOML: {exc}") from exc


def read_settings(
    data: dict[str, Any],
    path: str | os.PathLike[str],
    keys: Keys,
    limits: dict[str, str],
    error: type[SettingsFileError],
) -> dict[str, Any]:
    """Validated ``{field name: value}`` of parsed TOML (``path`` anchors relative paths)."""
    base = Path(path).resolve().parent
    values: dict[str, Any] = {}
    for section, table in data.items():
        known = keys.get(section)
        if known is None or not isinstance(table, dict):
            names = ", ".join(f"[{s}]" for s in keys)
            raise error(path, f"unknown section {section!r}; sections: {names}")
        for key, value in table.items():
            if key not in known:
                raise error(path, f"[{section}] has no key {key!r}; keys: {', '.join(known)}")
            name, kind, check = known[key]
            values[name] = _value(
                path, base, f"{section}.{key}", value, kind, check, limits.get(name), error
            )
    return values


def _value(
    path: str | os.PathLike[str],
    base: Path,
    key: str,
    value: Any,
    kind: type,
    check: Callable[[Any], bool] | None,
    limit: str | None,
    error: type[SettingsFileError],
) -> Any:
    if kind is Path:
        if not isinstance(value, str) or not value:
            raise error(path, f"{key} must be a non-empty path string")
        resolved = Path(value).expanduser()
        return resolved if resolved.is_absolute() else base / resolved
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise error(path, f"{key} must be an integer, not {value!r}")
    if kind is float and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise error(path, f"{key} must be a number, not {value!r}")
    if kind not in (int, float) and not isinstance(value, kind):
        raise error(path, f"{key} must be a {kind.__name__}, not {value!r}")
    if check is not None and not check(value):
        raise error(path, f"{key} must be {limit or 'at least 1'}, not {value!r}")
    return float(value) if kind is float else value


def check_files(
    values: dict[str, Any],
    names: tuple[str, ...],
    path: str | os.PathLike[str],
    error: type[SettingsFileError],
) -> None:
    """The TLS pair (``certfile`` and ``keyfile``: both or neither, and loadable as a
    server's certificate and key), and the files of the keys ``names`` (``section.key``,
    the value's field named as the key) exist."""
    if (values.get("certfile") is None) != (values.get("keyfile") is None):
        raise error(
            path, "listen.certfile and listen.keyfile go together: give both for HTTPS, or neither"
        )
    for name in names:
        file = values.get(name.rpartition(".")[2])
        if file is not None and not file.is_file():
            raise error(path, f"{name}: no such file {file}")
    if values.get("certfile") is not None:
        _check_tls_pair(values["certfile"], values["keyfile"], path, error)


def _check_tls_pair(
    cert: Path, key: Path, path: str | os.PathLike[str], error: type[SettingsFileError]
) -> None:
    """``cert`` holds a PEM certificate and ``key`` its unencrypted private key, as
    uvicorn will load them (which would otherwise fail with OpenSSL's terse words)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_verify_locations(cafile=cert)
    except OSError as exc:
        raise _tls_error(exc, "listen.certfile", cert, "a PEM certificate", path, error) from exc
    try:
        context.load_cert_chain(cert, key, password=_no_password)
    except ssl.SSLError as exc:
        if "KEY_VALUES_MISMATCH" in str(exc).upper():
            message = f"listen.keyfile: {key} is not the private key of the certificate in {cert}"
            raise error(path, message) from exc
        raise _tls_error(exc, "listen.keyfile", key, _KEY, path, error) from exc
    except OSError as exc:
        raise _tls_error(exc, "listen.keyfile", key, _KEY, path, error) from exc


_KEY = "an unencrypted PEM private key"


def _no_password() -> bytes:
    """An encrypted key is refused, never prompted for (a service has no terminal)."""
    return b""


def _tls_error(
    exc: OSError,
    key: str,
    file: Path,
    wanted: str,
    path: str | os.PathLike[str],
    error: type[SettingsFileError],
) -> SettingsFileError:
    if isinstance(exc, ssl.SSLError):
        reason = f" ({exc.reason})" if exc.reason else ""  # OpenSSL's, when it has one
        return error(path, f"{key}: {file} is not {wanted}{reason}")
    return error(path, f"{key}: cannot read {file}: {exc.strerror or exc}")
