"""Port, IP protocol and ICMP type names.

Port names come from the knowledge base, then the packaged IANA registry snapshot, never
the host's /etc/services; the snapshot is cross-checked against IANA's CSV in tests/data.
"""

from __future__ import annotations

import builtins
import csv
import fnmatch
import hashlib
import io
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import DATA, ROOT
from teiten.enrich import icmp_type_name, port_registry, protocol_name, service_name
from teiten.enrich.services import REGISTRY_FILE, parse_port_registry
from teiten.errors import ReferenceDataError
from teiten.knowledge import load_knowledge

IANA_CSV = DATA / "iana-service-names-port-numbers.csv"
SNAPSHOT = ROOT / "src" / "teiten" / "enrich" / REGISTRY_FILE
SCRIPT = ROOT / "scripts" / "build_iana_ports.py"

# The ports the 2019Q2 demo report printed without a name, and two classics.
KB_PORTS = [("tcp", 7001), ("tcp", 37215), ("tcp", 52869), ("tcp", 2323), ("tcp", 23), ("tcp", 445)]
# Ports the knowledge base does not describe: IANA names them.
IANA_ONLY = [
    ("tcp", 3690, "svn"),
    ("udp", 7001, "afs3-callback"),
    ("tcp", 6001, "x11"),  # from the range 6000-6063 (6000 the knowledge base describes)
    ("tcp", 6063, "x11"),
    ("tcp", 113, "ident"),  # IANA lists ident, then auth: the first one
    ("sctp", 9, "discard"),
    ("TCP", 3260, "iscsi-target"),
]


def _iana_csv() -> dict[tuple[str, int], list[str]]:
    """Every (proto, port) → the names IANA's CSV lists for it, in its order."""
    names: dict[tuple[str, int], list[str]] = {}
    with open(IANA_CSV, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            number, proto, name = row["Port Number"], row["Transport Protocol"], row["Service Name"]
            if not (number and proto and name):
                continue
            low, _, high = number.partition("-")
            for port in range(int(low), int(high or low) + 1):
                names.setdefault((proto, port), []).append(name)
    return names


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Clear the lookups' caches before and after, so a test sees a first lookup."""
    service_name.cache_clear()
    port_registry.cache_clear()
    yield
    service_name.cache_clear()
    port_registry.cache_clear()


@pytest.mark.parametrize(("proto", "port"), KB_PORTS, ids=lambda v: str(v))
def test_knowledge_base_names_come_first(proto: str, port: int) -> None:
    entry = load_knowledge().for_port(proto, port)
    assert entry is not None and entry.service
    assert service_name(proto, port) == entry.service


def test_knowledge_base_beats_iana_where_they_differ() -> None:
    assert port_registry().name("tcp", 2323) == "3d-nfsd"
    assert service_name("tcp", 2323) == "telnet-alt"
    assert port_registry().name("tcp", 7001) == "afs3-callback"
    assert service_name("tcp", 7001) == "weblogic"
    assert port_registry().name("tcp", 37215) is None
    assert service_name("tcp", 37215) == "upnp-tr064"


@pytest.mark.parametrize(("proto", "port", "name"), IANA_ONLY, ids=lambda v: str(v))
def test_iana_names_ports_the_knowledge_base_does_not(proto: str, port: int, name: str) -> None:
    assert load_knowledge().for_port(proto, port) is None
    assert service_name(proto, port) == name


@pytest.mark.parametrize(
    ("proto", "port", "name"),
    [
        ("tcp", 23, "telnet"),
        ("tcp", 445, "microsoft-ds"),
        ("udp", 53, "domain"),
        ("TCP", 22, "ssh"),
        ("tcp", 3389, "ms-wbt-server"),
        ("udp", 123, "ntp"),
    ],
)
def test_registered_services(proto: str, port: int, name: str) -> None:
    assert service_name(proto, port) == name


@pytest.mark.parametrize(
    ("proto", "port"),
    [
        ("tcp", None),
        ("tcp", 65536),
        ("tcp", -1),
        ("tcp", 4),  # unassigned
        ("gre", 80),
        ("tcp", 60001),  # the knowledge base describes it, as "unassigned"
        ("udp", 37215),
    ],
)
def test_no_service(proto: str, port: int | None) -> None:
    assert service_name(proto, port) is None


def test_the_hosts_services_database_is_never_read(
    monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    ports = [(p, n) for p, n in KB_PORTS] + [(p, n) for p, n, _ in IANA_ONLY] + [("tcp", 4)]
    before = [service_name(p, n) for p, n in ports]
    service_name.cache_clear()
    port_registry.cache_clear()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"the system services database was asked: {args}")

    real_open = builtins.open

    def guarded_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if "services" in Path(str(file)).name and str(file).startswith("/etc"):
            raise AssertionError(f"{file} was opened")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(socket, "getservbyport", refuse)
    monkeypatch.setattr(socket, "getservbyname", refuse)
    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(io, "open", guarded_open)
    assert [service_name(p, n) for p, n in ports] == before
    assert all(before[: len(KB_PORTS) + len(IANA_ONLY)])


def test_the_snapshot_agrees_with_ianas_csv() -> None:
    """Every named port in IANA's CSV has its first name in the snapshot, and nothing else."""
    iana = _iana_csv()
    names = port_registry().names
    assert len(iana) > 11_000 and iana[("tcp", 23)] == ["telnet"]
    assert {key: found[0] for key, found in iana.items()} == dict(names)
    # and a fixed sample, spelled out, in case both sides went wrong the same way
    for key, name in [
        (("tcp", 80), "http"),
        (("udp", 80), "http"),
        (("tcp", 443), "https"),
        (("udp", 1900), "ssdp"),
        (("tcp", 6379), "redis"),
        (("tcp", 6665), "ircu"),
        (("tcp", 9), "discard"),
        (("dccp", 9), "discard"),
    ]:
        assert names[key] == name and name in iana[key]


def test_the_snapshot_is_what_the_script_makes_of_the_csv(tmp_path: Path) -> None:
    out = tmp_path / "iana-ports.tsv"
    subprocess.run(
        [sys.executable, str(SCRIPT), str(IANA_CSV), "--output", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == SNAPSHOT.read_bytes(), "run scripts/build_iana_ports.py again"


def test_the_snapshot_is_small_dated_and_traceable() -> None:
    assert SNAPSHOT.stat().st_size < 300_000
    registry = port_registry()
    assert port_registry() is registry  # read once
    assert registry.edition == date(2024, 4, 30)
    assert registry.source.startswith(
        "https://www.iana.org/assignments/service-names-port-numbers/"
    )
    header = SNAPSHOT.read_text(encoding="utf-8").split("\n")[:12]
    digest = hashlib.sha256(IANA_CSV.read_bytes()).hexdigest()
    assert f"# source-sha256: {digest}" in header
    assert registry.describe() == {
        "title": "IANA Service Name and Transport Protocol Port Number Registry",
        "edition": "2024-04-30",
        "source": registry.source,
        "ports": len(registry.names),
    }


def test_the_snapshot_is_packaged() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["teiten"]
    inside = f"enrich/{REGISTRY_FILE}"
    assert any(fnmatch.fnmatch(inside, pattern) for pattern in patterns), patterns


def test_a_damaged_snapshot_names_its_line() -> None:
    with pytest.raises(ReferenceDataError, match=r"x\.tsv:3: .*port<TAB>protocols<TAB>name"):
        parse_port_registry("# edition: 2024-04-30\n23\ttcp\ttelnet\n23 tcp telnet\n", "x.tsv")
    with pytest.raises(ReferenceDataError, match="edition"):
        parse_port_registry("23\ttcp,udp\ttelnet\n", "x.tsv")
    registry = parse_port_registry("# edition: 2024-04-30\n23\ttcp,udp\ttelnet\n", "x.tsv")
    assert registry.name("UDP", 23) == "telnet" and registry.name("sctp", 23) is None


@pytest.mark.parametrize(
    ("number", "name"),
    [
        (1, "icmp"),
        (6, "tcp"),
        (17, "udp"),
        (58, "icmpv6"),
        (47, "gre"),
        (50, "esp"),
        (132, "sctp"),
        (41, "ipv6"),
        (254, "ip-proto-254"),
        (255, "ip-proto-255"),
    ],
)
def test_protocol_names(number: int, name: str) -> None:
    assert protocol_name(number) == name


def test_protocol_number_out_of_range() -> None:
    with pytest.raises(ValueError, match="0-255"):
        protocol_name(256)


@pytest.mark.parametrize(
    ("version", "icmp_type", "name"),
    [
        (4, 8, "echo-request"),
        (4, 0, "echo-reply"),
        (4, 3, "destination-unreachable"),
        (4, 11, "time-exceeded"),
        (6, 128, "echo-request"),
        (6, 135, "neighbor-solicitation"),
        (6, 1, "destination-unreachable"),
        (4, 99, None),
        (5, 8, None),
    ],
)
def test_icmp_type_names(version: int, icmp_type: int, name: str | None) -> None:
    assert icmp_type_name(version, icmp_type) == name
