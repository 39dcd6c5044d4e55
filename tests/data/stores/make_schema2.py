"""Build tests/data/stores/schema2: a store written by teiten with store schema 2.

Run with the release that writes schema 2 (commit d42149b), from the repository root:

    PYTHONPATH=src python tests/data/stores/make_schema2.py tests/data/stores/schema2

It ingests three real captures (two with sub-microsecond timestamps) and two small
generated nanosecond captures of one day (a scan and a DoS burst, as in
tests/test_cli_nanoseconds.py) under the sensor ``lab``, simulates two days into the
store, compacts the generated captures' day (so that it holds a merged file too), and
records what the queries answered then, byte for byte, under ``expected/`` (run on a
copy, so that the store itself stays as written; its path printed as ``STORE``).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests"))

from capture._captures import pcap  # noqa: E402
from decode.builders import ACK, SYN, ether, ipv4, tcp  # noqa: E402
from teiten.cli import main  # noqa: E402
from test_cli_nanoseconds import SCANNER, T0, VICTIM  # noqa: E402

CAPTURES = [
    "pcpp_nanosecs_big_endian.pcap",
    "tcpdump_tcp-handshake-nano.pcap",
    "ppa1e_dosattack.pcap",
]
# Every query the migration tests compare, as (file name, arguments).
QUERIES = [
    ("store-info.json", ["store", "info", "--json"]),
    ("top-ports-2019-04.json", ["top", "ports", "--period", "2019-04-01..2019-04-02", "--json"]),
    (
        "top-ports-all-2024-05-01.json",
        ["top", "ports", "--period", "2024-05-01", "--traffic", "all", "--json"],
    ),
    ("sources-2019-04.json", ["sources", "--period", "2019-04-01..2019-04-02", "--json"]),
    (
        "sources-all-2024-05-01.json",
        ["sources", "--period", "2024-05-01", "--traffic", "all", "--json"],
    ),
    ("sources-2005-12-20.json", ["sources", "--period", "2005-12-20", "--json"]),
    ("scans-2019-04.json", ["events", "scans", "--period", "2019-04-01..2019-04-02", "--json"]),
    ("scans-2024-05-01.json", ["events", "scans", "--period", "2024-05-01", "--json"]),
    ("dos-2024-05-01.json", ["events", "dos", "--period", "2024-05-01", "--json"]),
    ("dos-2019-04.json", ["events", "dos", "--period", "2019-04-01..2019-04-02", "--json"]),
]


def generated_ns_captures() -> tuple[bytes, bytes]:
    """tests/test_cli_nanoseconds.py's generated capture as two files of one day: 150 SYNs
    to port 23 (0.1 s apart, +123 ns), then 60 SYN-ACKs (1.5 s apart, +7 ns)."""
    scan, dos = [], []
    for i in range(150):
        frame = ether(ipv4(tcp(40000, 23, SYN), src=SCANNER, dst=f"203.0.113.{i + 1}"))
        scan.append((T0 + i // 10, (i % 10) * 100_000_000 + 123, frame))
    for i in range(60):
        frame = ether(ipv4(tcp(80, 41000 + i, SYN | ACK), src=VICTIM, dst=f"203.0.113.{i + 1}"))
        dos.append((T0 + 100 + i * 3 // 2, (i % 2) * 500_000_000 + 7, frame))
    return pcap(scan, nsec=True), pcap(dos, nsec=True)


def teiten(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def main_(out: Path) -> None:
    store = out / "store"
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(ROOT / "tests/data/captures" / n) for n in CAPTURES]
        for name, data in zip(
            ("scan_ns.pcap", "dos_ns.pcap"), generated_ns_captures(), strict=True
        ):
            (Path(tmp) / name).write_bytes(data)
            paths.append(str(Path(tmp) / name))
        teiten("ingest", "--store", str(store), "--sensor", "lab", "--json", *paths)
    teiten(
        "simulate", "--store", str(store), "--packets", "20000",
        "--start", "2019-04-01", "--end", "2019-04-03",
    )  # fmt: skip
    teiten("store", "compact", "--store", str(store), "--min-files", "2", "--day", "2024-05-01")
    expected = out / "expected"
    expected.mkdir()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store, copy)
        for name, args in QUERIES:
            answer = teiten(*args, "--store", str(copy))  # as printed, the store's path as STORE
            (expected / name).write_text(answer.replace(str(copy), "STORE"))
    (expected / "queries.json").write_text(json.dumps(QUERIES, indent=1) + "\n")


if __name__ == "__main__":
    main_(Path(sys.argv[1]))
