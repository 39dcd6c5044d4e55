"""The simulation's prefix → AS table: every source in an AS of its own country, written
as iptoasn's TSV and read back here with the standard library only."""

from __future__ import annotations

import csv
import gzip
import ipaddress
import itertools
from collections import Counter
from pathlib import Path

import iptocc
import numpy as np

from teiten.simulate import simulate_to_pcap
from teiten.simulate.as_table import FILE_NAME, FIRST_ASN, LAST_ASN, as_table, write_iptoasn
from teiten.simulate.population import build_population

from ._sim import chunks, small_config


def _read(path: Path) -> list[tuple[int, int, int, str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [
            (int(ipaddress.IPv4Address(a)), int(ipaddress.IPv4Address(b)), int(n), cc, name)
            for a, b, n, cc, name in csv.reader(lines, delimiter="\t")
        ]


def _owner(rows: list[tuple[int, int, int, str, str]], address: int) -> tuple[int, str] | None:
    for a, b, n, cc, _ in rows:  # a plain scan: independent of the table's searchsorted
        if a <= address <= b:
            return n, cc
    return None


def test_every_source_sits_in_an_as_of_its_country(tmp_path: Path) -> None:
    config = small_config(packets=5_000)
    simulate_to_pcap(config, tmp_path)
    rows = _read(tmp_path / FILE_NAME)
    assert rows and all(FIRST_ASN <= n <= LAST_ASN for _, _, n, _, _ in rows)
    assert all(a <= b < c for (a, b, *_), (c, *_) in itertools.pairwise(rows))
    sources = np.unique(np.concatenate([c.src for c in chunks(config)]))
    sample = sources[:: max(1, len(sources) // 300)]
    texts = [str(ipaddress.IPv4Address(int(a))) for a in sample]
    for address, country in zip(sample.tolist(), iptocc.country_code(texts), strict=True):
        owner = _owner(rows, address)
        assert owner is not None, ipaddress.IPv4Address(address)
        assert owner[1] == country, (ipaddress.IPv4Address(address), owner)


def test_one_as_per_24_and_a_dominant_one_per_country(tmp_path: Path) -> None:
    population = build_population(small_config(packets=2_000_000))  # 50 k sources
    table = as_table(population, seed=11)
    asn = table.lookup(population.addr)
    assert (asn != 0).all()
    blocks = population.addr >> 8
    for block in np.unique(blocks)[:500]:
        assert len(set(asn[blocks == block].tolist())) == 1
    per_24 = dict(zip((blocks).tolist(), asn.tolist(), strict=True))
    biggest = Counter(table.countries[a] for a in per_24.values()).most_common(1)[0][0]
    mine = Counter(a for a in per_24.values() if table.countries[a] == biggest)
    assert len(mine) == 8  # MOST
    top = mine.most_common(1)[0][1] / sum(mine.values())
    assert 0.4 < top < 0.6, mine
    assert table.names[int(asn[0])].startswith(f"Simulated {table.countries[int(asn[0])]}")


def test_the_same_simulation_writes_the_same_bytes(tmp_path: Path) -> None:
    population = build_population(small_config(packets=2_000_000))
    a = write_iptoasn(as_table(population, 3), tmp_path / "a.tsv.gz").read_bytes()
    b = write_iptoasn(as_table(population, 3), tmp_path / "b.tsv.gz").read_bytes()
    c = write_iptoasn(as_table(population, 4), tmp_path / "c.tsv.gz").read_bytes()
    assert a == b and a != c
