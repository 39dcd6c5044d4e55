"""Shared test fixtures: where the real captures live, and small helpers."""

from __future__ import annotations

import contextlib
import csv
import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
CAPTURES = DATA / "captures"


def capture_path(name: str) -> Path:
    """Path of a real public capture in tests/data/captures (origin and licence in INDEX.tsv)."""
    path = CAPTURES / name
    if not path.exists():
        pytest.fail(f"missing test capture {path}; see tests/data/captures/INDEX.tsv")
    return path


def capture_index() -> dict[str, dict[str, str]]:
    """Rows of tests/data/captures/INDEX.tsv keyed by file name."""
    with open(CAPTURES / "INDEX.tsv", newline="") as f:
        return {row["filename"]: row for row in csv.DictReader(f, delimiter="\t")}


def require_tool(name: str) -> str:
    """Path of an external tool the test cross-checks against (installed by `make test`)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; `make test` installs it (Debian package)")
    return path


def rows_table(rows: list[dict]):
    """A store-schema Arrow table from a few hand-written rows (for store/analysis tests).

    Each row needs ``ts`` (ISO string, to the ns), ``src`` and ``dst`` (address strings) and may set
    ``proto`` (default 6), ``dport``, ``kind`` (default "probe"), ``country``, ``sensor``.
    """
    import ipaddress

    import numpy as np
    import pyarrow as pa

    from teiten.store.schema import SCHEMA

    def addr(text: str) -> bytes:
        ip = ipaddress.ip_address(text)
        return (ipaddress.IPv6Address(f"::ffff:{ip}") if ip.version == 4 else ip).packed

    columns: dict[str, list] = {f.name: [] for f in SCHEMA}
    for r in rows:
        proto = r.get("proto", 6)
        ported = proto in (6, 17)
        ns = int(np.datetime64(r["ts"].rstrip("Z"), "ns").astype("int64"))
        v = {
            "ts": ns // 1000,
            "ts_ns": ns % 1000,
            "sensor": r.get("sensor", "s1"),
            "ip_version": 6 if ":" in r["src"] else 4,
            "src": addr(r["src"]),
            "dst": addr(r["dst"]),
            "proto": proto,
            "sport": r.get("sport", 40000) if ported else None,
            "dport": r.get("dport") if ported else None,
            "tcp_flags": r.get("tcp_flags", 2) if proto == 6 else None,
            "tcp_seq": 1 if proto == 6 else None,
            "tcp_ack": 0 if proto == 6 else None,
            "tcp_window": 1024 if proto == 6 else None,
            "tcp_opt_len": 0 if proto == 6 else None,
            "tcp_opt_mask": 0 if proto == 6 else None,
            "tcp_mss": None,
            "ttl": 50,
            "ip_id": 1,
            "ip_flags": 0,
            "frag_offset": 0,
            "is_fragment": False,
            "ip_len": 40,
            "wirelen": 54,
            "icmp_type": r.get("icmp_type") if proto in (1, 58) else None,
            "icmp_code": 0 if proto in (1, 58) else None,
            "kind": r.get("kind", "probe"),
            "country": r.get("country"),
            "asn": r.get("asn"),
            "tags": r.get("tags", 0),
            "batch": r.get("batch"),
        }
        for k, value in v.items():
            columns[k].append(value)
    arrays = []
    for f in SCHEMA:
        if pa.types.is_dictionary(f.type):
            arrays.append(pa.array(columns[f.name], pa.string()).dictionary_encode())
        elif pa.types.is_timestamp(f.type):
            arrays.append(pa.array(columns[f.name], pa.int64()).cast(f.type))
        else:
            arrays.append(pa.array(columns[f.name], f.type))
    return pa.Table.from_arrays(arrays, schema=SCHEMA)


@pytest.fixture
def make_rows():
    return rows_table


@contextlib.contextmanager
def small_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "2m") mounted at ``path`` for a full-disk test.

    Needs root (CI runs as root); skips with the reason otherwise.
    """
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here (no CAP_SYS_ADMIN in this container)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill_disk(folder: Path) -> None:
    """Write ``folder/filler`` until the disk is full (remove it to free the space)."""
    chunk = bytes(1 << 16)
    # Unbuffered: a buffered file would try the unwritten rest again on close, and fail.
    with open(folder / "filler", "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """``folder/NAME.crt`` and its key ``folder/NAME.key``: a self-signed certificate for
    127.0.0.1 (its own CA: a client trusts it with ``cafile=NAME.crt``), made with Debian's
    openssl."""
    openssl = require_tool("openssl")
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN=teiten-{name}", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate (and key) for 127.0.0.1 (:func:`self_signed_certificate`)."""
    return self_signed_certificate(tmp_path, "collector")
