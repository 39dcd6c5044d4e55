"""The simulation's own prefix → AS table: the AS each simulated source's /24 belongs to.

Real AS data would tie simulated traffic to real networks and their holders, so a
simulation makes its own. Every /24 holding a source belongs to one AS of its country:
a country has a few (one per :data:`PER_AS` of its /24s, at most :data:`MOST`), the
first holding about half of its /24s, the next a quarter, and so on, as a country's
largest access ISPs do. They are numbered from the private-use range (RFC 6996:
64512–65534), so no real network is named, and described as "Simulated CC network N".

The table is written in iptoasn's format (``ip2asn-v4.tsv.gz``: range start, range end,
AS number, country, description; tab-separated, gzip), which ``teiten asn import``
reads; the demo imports it, so its store ranks ASes. Deterministic in the population
and the seed.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from teiten.simulate.population import Population
from teiten.simulate.regions import dotted

__all__ = ["FILE_NAME", "FIRST_ASN", "AsTable", "as_table", "write_iptoasn"]

FILE_NAME = "ip2asn-v4.tsv.gz"  # iptoasn's own name for its IPv4 table
FIRST_ASN = 64512  # RFC 6996 private use, 2-byte: 64512–65534
LAST_ASN = 65534
PER_AS = 64  # /24s of a country per AS it has
MOST = 8  # ASes a country has at most


@dataclass(frozen=True)
class AsTable:
    """Ranges of IPv4 addresses (uint32, inclusive, sorted, not overlapping) and the AS
    each belongs to, with each AS's country and description."""

    start: np.ndarray
    end: np.ndarray
    asn: np.ndarray  # uint32
    countries: dict[int, str]  # AS number → country
    names: dict[int, str]  # AS number → description

    def lookup(self, addr: np.ndarray) -> np.ndarray:
        """The AS of each IPv4 address (uint32); 0 where no range holds it."""
        addr = np.asarray(addr, np.uint32)
        i = np.searchsorted(self.start, addr, side="right") - 1
        inside = (i >= 0) & (addr <= self.end[np.maximum(i, 0)])
        return np.where(inside, self.asn[np.maximum(i, 0)], 0).astype(np.uint32)


def as_table(population: Population, seed: int) -> AsTable:
    """The AS of every /24 holding a source of ``population`` (see the module)."""
    rng = np.random.default_rng([seed, 7])
    blocks = population.addr.astype(np.uint32) >> np.uint32(8)
    blocks, first = np.unique(blocks, return_index=True)
    codes = np.array(population.countries)[population.country[first]]
    asn = np.zeros(len(blocks), np.uint32)
    countries: dict[int, str] = {}
    names: dict[int, str] = {}
    next_asn = FIRST_ASN
    for code in sorted(set(codes.tolist())):
        mine = np.flatnonzero(codes == code)
        k = int(min(MOST, max(1, len(mine) // PER_AS)))
        if next_asn + k - 1 > LAST_ASN:
            k = LAST_ASN - next_asn + 1  # the private range is full: the rest share one
            if k <= 0:
                raise ValueError("more simulated countries than private-use AS numbers")
        shares = 1.0 / 2.0 ** np.arange(1, k + 1)
        choice = rng.choice(k, size=len(mine), p=shares / shares.sum())
        asn[mine] = next_asn + choice
        for j in range(k):
            countries[next_asn + j] = code
            names[next_asn + j] = f"Simulated {code} network {j + 1}"
        next_asn += k
    start, end, owner = _merged(blocks << np.uint32(8), asn)
    return AsTable(start, end, owner, countries, names)


def _merged(starts: np.ndarray, asn: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted /24 starts and their ASes as ranges, adjacent /24s of one AS as one."""
    ends = starts + np.uint32(255)
    joins = (starts[1:] == ends[:-1] + np.uint32(1)) & (asn[1:] == asn[:-1])
    begins = np.concatenate(([True], ~joins))
    first = np.flatnonzero(begins)
    last = np.concatenate((first[1:] - 1, [len(starts) - 1]))
    return starts[first], ends[last], asn[first]


def write_iptoasn(table: AsTable, path: Path) -> Path:
    """``table`` as iptoasn's gzipped TSV (start, end, AS number, country, description)."""
    lines = [
        f"{a}\t{b}\t{n}\t{table.countries[n]}\t{table.names[n]}\n"
        for a, b, n in zip(dotted(table.start), dotted(table.end), table.asn.tolist(), strict=True)
    ]
    with open(path, "wb") as raw, gzip.GzipFile("", "wb", fileobj=raw, mtime=0) as out:
        out.write("".join(lines).encode())  # no name, mtime 0: the same table, the same bytes
    return path
