"""Build teiten's compact snapshot of IANA's port registry from IANA's CSV.

    .venv/bin/python scripts/build_iana_ports.py tests/data/iana-service-names-port-numbers.csv

reads a copy of IANA's "Service Name and Transport Protocol Port Number Registry"
(https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.csv)
and writes ``src/teiten/enrich/data/iana-ports.tsv``, which
:func:`teiten.enrich.services.port_registry` loads. Only rows with both a port (or a
range, expanded) and a service name are kept; where IANA lists several names for one
port and protocol (aliases such as ``www`` beside ``http`` on 80), the first one listed.
Rows are ``port<TAB>protocols<TAB>name``, the protocols that share the name joined by
commas, so most ports take one line for TCP and UDP.

IANA's CSV carries no date, so the snapshot's edition is the latest Registration or
Modification Date in it: the registry is at least that recent. The output depends only
on the input's bytes, so running this again on the same file gives the same file (the
tests check it).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "teiten" / "enrich" / "data" / "iana-ports.tsv"
SOURCE_URL = (
    "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.csv"
)
PROTOCOLS = ("tcp", "udp", "sctp", "dccp")  # the registry's transport protocols, in this order
COLUMNS = (
    "Service Name",
    "Port Number",
    "Transport Protocol",
    "Registration Date",
    "Modification Date",
)
MAX_RANGE = 1024  # a larger range would be a mistake in the input, not a service
_DATE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")


def read_registry(path: Path) -> tuple[dict[tuple[str, int], str], str]:
    """``(proto, port) → first listed service name``, and the latest date in the file."""
    names: dict[tuple[str, int], str] = {}
    latest = ""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = set(COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: no column {', '.join(sorted(missing))}; is it IANA's CSV?")
        for line, row in enumerate(reader, start=2):
            for column in ("Registration Date", "Modification Date"):
                when = row[column].strip()
                if when and not _DATE.match(when):
                    raise ValueError(f"{path}:{line}: {column} {when!r} is not a date")
                latest = max(latest, when)
            name, number = row["Service Name"].strip(), row["Port Number"].strip()
            proto = row["Transport Protocol"].strip().lower()
            if not (name and number and proto):
                continue
            if proto not in PROTOCOLS:
                raise ValueError(f"{path}:{line}: unknown transport protocol {proto!r}")
            if any(c in name for c in "\t\r\n"):
                raise ValueError(f"{path}:{line}: service name {name!r} has a tab or newline")
            first, _, last = number.partition("-")
            low, high = int(first), int(last or first)
            if not 0 <= low <= high <= 0xFFFF or high - low >= MAX_RANGE:
                raise ValueError(f"{path}:{line}: port {number!r} is not a port or small range")
            for port in range(low, high + 1):
                names.setdefault((proto, port), name)
    if not latest:
        raise ValueError(f"{path}: no Registration or Modification Date; is it IANA's CSV?")
    return names, latest


def render(names: dict[tuple[str, int], str], edition: str, source: bytes, filename: str) -> str:
    """The snapshot's text: a commented header, then one row per port and name."""
    rows: dict[tuple[int, str], list[str]] = defaultdict(list)
    for (proto, port), name in names.items():
        rows[(port, name)].append(proto)
    out = io.StringIO()
    out.write(
        "# IANA Service Name and Transport Protocol Port Number Registry, compact snapshot\n"
        f"# source: {SOURCE_URL}\n"
        f"# edition: {edition}\n"
        "# edition-is: the latest Registration or Modification Date in the source file\n"
        f"# source-file: {filename}\n"
        f"# source-sha256: {hashlib.sha256(source).hexdigest()}\n"
        "# generated-by: scripts/build_iana_ports.py (do not edit by hand)\n"
        "# rows: port, transport protocols (comma-separated), service name; named\n"
        "# assignments only, ranges expanded, the first name IANA lists for a port\n"
    )
    for protos in rows.values():
        protos.sort(key=PROTOCOLS.index)
    for (port, name), protos in sorted(
        rows.items(), key=lambda row: (row[0][0], PROTOCOLS.index(row[1][0]))
    ):
        out.write(f"{port}\t{','.join(protos)}\t{name}\n")
    return out.getvalue()


def build(source: Path, output: Path = OUTPUT) -> Path:
    """Write the snapshot of the IANA CSV ``source`` to ``output``."""
    names, latest = read_registry(source)
    text = render(names, latest, source.read_bytes(), source.name)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8", newline="\n")
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="IANA's service-names-port-numbers.csv")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT, help=f"default {OUTPUT}")
    args = parser.parse_args(argv)
    try:
        path = build(args.source, args.output)
    except (OSError, ValueError) as exc:
        print(f"build_iana_ports: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
