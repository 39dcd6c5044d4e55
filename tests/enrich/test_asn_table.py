"""AS tables: each format read from small files written here, and every lookup checked
against an independent answer (a bisect over the file's own lines, a brute-force
most-specific match, or the maxminddb reader itself)."""

from __future__ import annotations

import gzip
import ipaddress
import itertools
import random
from bisect import bisect_right
from pathlib import Path

import maxminddb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teiten.enrich.addresses import IPV4, IPV6, address_rows
from teiten.enrich.asn import AsnTable, build_table, detect_format, read_asn_file
from teiten.enrich.asn.table import resolve
from teiten.enrich.geo import AsnTableTagger
from teiten.errors import OptionError, ReferenceDataError

V4_MAX, V6_MAX = 2**32 - 1, 2**128 - 1


# --- writing the public formats -------------------------------------------------------


def _text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def write_iptoasn(path: Path, rows: list[tuple[int, int, int, int]], compress: bool = True) -> Path:
    """iptoasn lines from (version, start, end, asn) rows; AS 0 is 'Not routed'."""
    lines = [
        f"{_text(v, s)}\t{_text(v, e)}\t{a}\t{'None' if a == 0 else 'JP'}\t"
        f"{'Not routed' if a == 0 else f'NET-{a} Holder, Inc.'}\n"
        for v, s, e, a in rows
    ]
    data = "".join(lines).encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def random_ranges(rng: random.Random, version: int, n: int) -> list[tuple[int, int, int, int]]:
    """``n`` disjoint ranges with gaps between some of them, 1 in 10 not routed (AS 0);
    the first starts at the family's first address and the last ends at its last."""
    top = V4_MAX if version == 4 else V6_MAX
    inner: set[int] = set()
    while len(inner) < 2 * n - 2:
        inner.add(rng.randrange(1, top))
    bounds = [0, *sorted(inner), top]
    rows = []
    for i in range(n):
        start, end = bounds[2 * i], bounds[2 * i + 1]
        if i % 3 == 0 and i + 1 < n:  # no gap: the next range starts right after this one
            end = bounds[2 * i + 2] - 1
        asn = 0 if rng.random() < 0.1 else rng.randrange(1, 2**32)
        rows.append((version, start, end, asn))
    return rows


def bisect_reference(rows: list[tuple[int, int, int, int]]):
    """An independent lookup over routed, disjoint ranges: bisect on their starts."""
    routed = sorted((s, e, a) for _, s, e, a in rows if a)
    starts = [s for s, _, _ in routed]

    def lookup(address: int) -> int | None:
        i = bisect_right(starts, address) - 1
        return routed[i][2] if i >= 0 and address <= routed[i][1] else None

    return lookup


def probes(rng: random.Random, spans, top: int, n: int = 20_000) -> list[int]:
    """Random addresses, and every range's edges and their neighbours."""
    edges = {x for s, e in spans for x in (s - 1, s, e, e + 1)}
    return sorted({a for a in edges if 0 <= a <= top} | {rng.randrange(top + 1) for _ in range(n)})


def keys(version: int, addresses: list[int]) -> np.ndarray:
    if version == 4:
        return np.array(addresses, np.uint32)
    packed = b"".join(a.to_bytes(16, "big") for a in addresses)
    return np.frombuffer(packed, np.uint8).reshape(-1, 16).copy().view("V16").ravel()


def table_answers(table: AsnTable, version: int, addresses: list[int]) -> list[int | None]:
    asn, found = table.lookup(IPV4 if version == 4 else IPV6, keys(version, addresses))
    return [int(a) if f else None for a, f in zip(asn, found, strict=True)]


def read_table(path: Path, fmt: str | None = None) -> AsnTable:
    source = read_asn_file(path, fmt)
    table, _ = build_table(source.ipv4, source.ipv6, source.names)
    return table


# --- iptoasn ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [4, 6])
def test_iptoasn_lookups_equal_a_bisect_over_the_file(tmp_path, version):
    rng = random.Random(version)
    rows = random_ranges(rng, version, 3000)
    path = write_iptoasn(tmp_path / f"ip2asn-v{version}.tsv.gz", rows)
    source = read_asn_file(path)
    assert source.format == "iptoasn" and source.counts["rows"] == 3000
    assert source.counts["not_routed"] == sum(1 for r in rows if r[3] == 0) > 0
    table, overlapping = build_table(source.ipv4, source.ipv6, source.names)
    assert overlapping == 0 and len(table.ranges(IPV4 if version == 4 else IPV6)) == sum(
        1 for r in rows if r[3]
    )
    top = V4_MAX if version == 4 else V6_MAX
    addresses = probes(rng, [(s, e) for _, s, e, _ in rows], top)
    reference = bisect_reference(rows)
    expected = [reference(a) for a in addresses]
    assert table_answers(table, version, addresses) == expected
    assert None in expected and len(set(expected)) > 1000  # gaps and many ASes were asked
    # Unsorted keys (searched in sorted order inside) give the same answers.
    shuffled = addresses[:]
    rng.shuffle(shuffled)
    assert table_answers(table, version, shuffled) == [reference(a) for a in shuffled]


def test_iptoasn_keeps_names_and_reads_plain_and_combined_files(tmp_path):
    v4 = [int(ipaddress.IPv4Address(a)) for a in ("1.0.0.0", "1.0.0.255")]
    v6 = [int(ipaddress.IPv6Address(a)) for a in ("2001:200::", "2001:200::ff")]
    rows = [(4, *v4, 13335), (6, *v6, 2500)]
    path = write_iptoasn(tmp_path / "ip2asn-combined.tsv", rows, compress=False)
    table = read_table(path)
    assert (len(table.v4), len(table.v6)) == (1, 1)
    assert (
        table.name(13335) == "NET-13335 Holder, Inc."
        and table.name(2500) == "NET-2500 Holder, Inc."
    )
    assert table.name(1) is None
    (answer,) = table.answers(["1.0.0.9"])
    assert answer == {
        "address": "1.0.0.9",
        "asn": 13335,
        "name": "NET-13335 Holder, Inc.",
        "range": ["1.0.0.0", "1.0.0.255"],
    }
    mapped, v6, none = table.answers(["::ffff:1.0.0.1", "2001:200::7", "9.9.9.9"])
    assert mapped["asn"] == 13335 and v6["range"] == ["2001:200::", "2001:200::ff"]
    assert none == {"address": "9.9.9.9", "asn": None, "name": None, "range": None}
    with pytest.raises(OptionError, match=r"1\.2\.3"):
        table.answers(["1.2.3"])


# --- prefix2as: nested prefixes, several origins ------------------------------------


def random_prefixes(rng: random.Random, version: int, n: int) -> list[tuple[int, int, str]]:
    """Distinct nested prefixes inside one /8 (IPv4) or /32 (IPv6), with AS fields of every
    kind: one AS, several origins (a_b), AS sets (a,b) and both (a_b,c)."""
    base_len, bits = (8, 32) if version == 4 else (32, 128)
    base = (20 << 24) if version == 4 else int(ipaddress.IPv6Address("2001:db8::"))
    seen: dict[tuple[int, int], str] = {}
    while len(seen) < n:
        length = rng.randrange(base_len, base_len + 20)
        host = bits - length
        network = base | ((rng.getrandbits(length - base_len) << host) if length > base_len else 0)
        a, b, c = (rng.randrange(1, 400_000) for _ in range(3))
        field = rng.choice([f"{a}", f"{a}", f"{a}_{b}", f"{a},{b}", f"{a}_{b},{c}"])
        seen.setdefault((network, length), field)
    return [(net, length, field) for (net, length), field in seen.items()]


def write_prefix2as(path: Path, version: int, prefixes: list[tuple[int, int, str]]) -> Path:
    text = "".join(f"{_text(version, net)}\t{length}\t{field}\n" for net, length, field in prefixes)
    path.write_bytes(gzip.compress(text.encode()))
    return path


def most_specific_reference(version: int, prefixes: list[tuple[int, int, str]]):
    """Brute force: the longest prefix holding the address, its first listed AS."""
    bits = 32 if version == 4 else 128

    def lookup(address: int) -> int | None:
        best = None
        for net, length, field in prefixes:
            held = address >> (bits - length) == net >> (bits - length)
            if held and (best is None or length > best[0]):
                best = (length, int(field.split("_")[0].split(",")[0]))
        return None if best is None else best[1]

    return lookup


@pytest.mark.parametrize("version", [4, 6])
def test_prefix2as_most_specific_prefix_wins(tmp_path, version):
    rng = random.Random(10 + version)
    prefixes = random_prefixes(rng, version, 300)
    name = f"routeviews-rv{2 if version == 4 else 6}-20240501-1200.pfx2as.gz"
    path = write_prefix2as(tmp_path / name, version, prefixes)
    assert detect_format(path) == "prefix2as"
    source = read_asn_file(path)
    assert (source.format, source.date.isoformat(), source.date_from) == (
        "prefix2as",
        "2024-05-01",
        "file name",
    )
    assert source.counts["multi_origin"] == sum(1 for *_, f in prefixes if "_" in f) > 0
    assert source.counts["as_set"] == sum(1 for *_, f in prefixes if "," in f) > 0
    table, overlapping = build_table(source.ipv4, source.ipv6, source.names)
    assert overlapping > 0 and not source.names
    bits = 32 if version == 4 else 128
    spans = [(net, net | ((1 << (bits - length)) - 1)) for net, length, _ in prefixes]
    addresses = probes(rng, spans, V4_MAX if version == 4 else V6_MAX, n=2000)
    addresses += [rng.choice(spans)[0] + rng.randrange(1 << 12) for _ in range(3000)]
    reference = most_specific_reference(version, prefixes)
    assert table_answers(table, version, addresses) == [reference(a) for a in addresses]


def test_resolve_cuts_holders_around_what_they_hold():
    nested = [(0, 100, 1), (10, 20, 2), (10, 20, 3), (30, 30, 4), (95, 100, 5)]
    assert resolve(nested) == (
        [(0, 9, 1), (10, 20, 2), (21, 29, 1), (30, 30, 4), (31, 94, 1), (95, 100, 5)],
        5,
    )  # the same range twice: the first given wins
    crossing = [(0, 10, 1), (5, 15, 2), (12, 40, 3), (50, 60, 4)]
    assert resolve(crossing) == ([(0, 10, 1), (11, 15, 2), (16, 40, 3), (50, 60, 4)], 3)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 300), st.integers(0, 120), st.integers(1, 6)),
        min_size=1,
        max_size=30,
    )
)
def test_resolve_matches_a_brute_force_most_specific_match(spans):
    """Any overlaps (not only nested prefixes): the smallest range holding an address
    wins, of equal ones the first given; gaps stay gaps."""
    given_spans = [(start, start + width, asn) for start, width, asn in spans]
    pieces, _ = resolve(given_spans)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(pieces))
    table, _ = build_table(given_spans, [], {})
    addresses = list(range(0, 440))

    def brute(address: int) -> int | None:
        holding = [(e - s, k, a) for k, (s, e, a) in enumerate(given_spans) if s <= address <= e]
        return min(holding)[2] if holding else None

    assert table_answers(table, 4, addresses) == [brute(a) for a in addresses]


# --- mmdb -------------------------------------------------------------------------------


def test_mmdb_lookups_equal_the_maxminddb_reader(tmp_path, make_mmdb):
    networks = {
        "20.0.0.0/8": {"autonomous_system_number": 100, "autonomous_system_organization": "Big"},
        "20.1.0.0/16": {"autonomous_system_number": 200, "autonomous_system_organization": "Mid"},
        "20.1.2.0/24": {"autonomous_system_number": 300},
        "20.1.3.0/24": {"country": {"iso_code": "JP"}},  # no AS: a hole in the /16
        "2001:db8::/32": {"autonomous_system_number": 400, "autonomous_system_organization": "Six"},
        "2001:db8:1::/48": {"asn": "AS500", "as_name": "IPinfo style"},
        "2002:100::/24": {"autonomous_system_number": 600},  # 6to4: an alias of IPv4 space
    }
    path = make_mmdb(tmp_path / "GeoLite2-ASN.mmdb", "GeoLite2-ASN", networks)
    assert detect_format(path) == "mmdb"
    source = read_asn_file(path)
    assert (source.date.isoformat(), source.date_from) == ("2024-05-01", "database build time")
    assert source.counts["no_asn"] == 1 and source.counts["ipv4_aliases"] == 1
    table, _ = build_table(source.ipv4, source.ipv6, source.names)
    assert (
        table.name(100) == "Big" and table.name(500) == "IPinfo style" and table.name(300) is None
    )

    rng = random.Random(3)
    v4 = [(20 << 24) | rng.getrandbits(24) for _ in range(3000)]
    v4 += [(20 << 24) | (1 << 16) | rng.getrandbits(16) for _ in range(3000)]
    v4 += [(21 << 24) | rng.getrandbits(24) for _ in range(100)]
    six = int(ipaddress.IPv6Address("2001:db8::"))
    v6 = [six | rng.getrandbits(96) for _ in range(1000)]
    v6 += [six | (1 << 80) | rng.getrandbits(80) for _ in range(1000)]
    with maxminddb.open_database(str(path)) as reader:

        def expected(version: int, address: int) -> int | None:
            record = reader.get(_text(version, address))
            if not record:
                return None
            value = record.get("autonomous_system_number") or record.get("asn")
            return None if value is None else int(str(value).removeprefix("AS"))

        assert table_answers(table, 4, v4) == [expected(4, a) for a in v4]
        assert table_answers(table, 6, v6) == [expected(6, a) for a in v6]
    assert table.answers(["2002:100::1"])[0]["asn"] is None  # skipped, not an IPv6 network


def test_a_country_mmdb_is_refused(tmp_path, country_mmdb):
    with pytest.raises(ReferenceDataError, match="GeoLite2-Country database with no AS numbers"):
        read_asn_file(country_mmdb)


# --- bad input --------------------------------------------------------------------------


def _lines(path: Path, *lines: str) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


GOOD_IPTOASN = "1.0.0.0\t1.0.0.255\t13335\tUS\tCLOUDFLARENET"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1.0.1.0\tnot-an-ip\t5\tUS\tX", "'not-an-ip' is not an IPv4 or IPv6 address"),
        ("1.0.1.0\t1.0.1.255\t5\tUS", "4 tab-separated fields, not 5"),
        ("1.0.1.0\t1.0.1.255\tAS5\tUS\tX", "'AS5' is not an AS number"),
        ("1.0.1.0\t1.0.1.255\t4294967296\tUS\tX", "is not an AS number"),
        ("1.0.1.9\t1.0.1.0\t5\tUS\tX", "is not a range"),
        ("1.0.1.0\t2001:db8::\t5\tUS\tX", "is not a range"),
    ],
)
def test_a_bad_iptoasn_line_names_the_file_and_line(tmp_path, line, message):
    path = _lines(tmp_path / "ip2asn-v4.tsv", GOOD_IPTOASN, "", line)
    with pytest.raises(ReferenceDataError, match=message) as caught:
        read_asn_file(path)
    assert caught.value.line == 3 and str(caught.value).startswith(f"{path}:3: ")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1.0.0.1\t24\t13335", "has host bits set"),
        ("1.0.0.0\t33\t13335", "'33' is not a prefix length"),
        ("1.0.0.0\t24\t13335_x", "'x' is not an AS number"),
        ("1.0.0.0\t24", "2 tab-separated fields, not 3"),
    ],
)
def test_a_bad_prefix2as_line_names_the_file_and_line(tmp_path, line, message):
    path = _lines(tmp_path / "pfx2as.txt", "1.0.0.0\t24\t13335", line)
    with pytest.raises(ReferenceDataError, match=message) as caught:
        read_asn_file(path, "prefix2as")
    assert caught.value.line == 2


def test_truncated_or_damaged_gzip_is_an_error_naming_the_file(tmp_path):
    rows = random_ranges(random.Random(1), 4, 5000)
    whole = write_iptoasn(tmp_path / "whole.tsv.gz", rows).read_bytes()
    cut = tmp_path / "cut.tsv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ReferenceDataError, match="damaged or truncated after line") as caught:
        read_asn_file(cut)
    assert str(cut) in str(caught.value) and "download the file again" in str(caught.value)
    damaged = tmp_path / "damaged.tsv.gz"
    middle = len(whole) // 2
    damaged.write_bytes(
        whole[:middle] + bytes(b ^ 0x55 for b in whole[middle : middle + 64]) + whole[middle + 64 :]
    )
    with pytest.raises(ReferenceDataError) as caught:  # garbage lines, or a bad checksum
        read_asn_file(damaged)
    assert str(caught.value).startswith(f"{damaged}:")


def test_files_that_are_no_as_data_are_refused(tmp_path, make_mmdb):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(ReferenceDataError, match="not an AS data file teiten imports"):
        read_asn_file(junk)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n\n")
    with pytest.raises(ReferenceDataError, match="the file is empty"):
        read_asn_file(empty)
    only_unrouted = _lines(tmp_path / "none.tsv", "0.0.0.0\t0.255.255.255\t0\tNone\tNot routed")
    with pytest.raises(ReferenceDataError, match="no routed range"):
        read_asn_file(only_unrouted)
    with pytest.raises(ReferenceDataError, match="cannot open as a MaxMind DB"):
        read_asn_file(_lines(tmp_path / "x.mmdb", GOOD_IPTOASN), "mmdb")
    with pytest.raises(ReferenceDataError, match="cannot read the file"):
        read_asn_file(tmp_path / "missing.tsv")


# --- the stored form, and tagging -------------------------------------------------------


def test_stored_arrays_round_trip_and_damage_is_refused(tmp_path):
    rows = random_ranges(random.Random(5), 4, 200) + random_ranges(random.Random(6), 6, 200)
    table = read_table(write_iptoasn(tmp_path / "both.tsv.gz", rows))
    again = AsnTable.from_arrays(table.arrays())
    probe = [random.Random(7).randrange(V4_MAX) for _ in range(1000)]
    assert table_answers(again, 4, probe) == table_answers(table, 4, probe)
    assert again.name(rows[1][3]) == table.name(rows[1][3])
    arrays = table.arrays()
    swapped = dict(
        arrays, v4_start=arrays["v4_start"][::-1].copy(), v4_end=arrays["v4_end"][::-1].copy()
    )
    with pytest.raises(ValueError, match="not sorted and disjoint"):
        AsnTable.from_arrays(swapped)
    with pytest.raises(ValueError, match="no v6_asn array"):
        AsnTable.from_arrays({k: v for k, v in arrays.items() if k != "v6_asn"})
    with pytest.raises(ValueError, match="AS name index"):
        AsnTable.from_arrays(dict(arrays, name_offsets=arrays["name_offsets"][:-1]))


def test_the_tagger_answers_as_the_table_and_never_asks_twice():
    spans = [(int(ipaddress.IPv4Address("0.0.0.0")), V4_MAX, 64500)]  # every IPv4 address
    six = int(ipaddress.IPv6Address("2a00::"))
    table, _ = build_table(spans, [(six, six + 2**100, 64501)], {64500: "All", 64501: "Six"})
    tagger = AsnTableTagger(table)
    addresses = ["8.8.8.8", "10.0.0.1", "2a00::1", "2a01::1", "192.168.1.1", "8.8.8.8", "1.1.1.1"]
    tags = tagger.tag(address_rows(addresses))
    assert tags.has_asn.tolist() == [True, False, True, False, False, True, True]  # bogons: never
    assert tags.asn[tags.has_asn].tolist() == [64500, 64501, 64500, 64500]
    assert (tags.country_code == -1).all() and tagger.lookups == 4
    tagger.tag(address_rows(addresses))
    assert tagger.lookups == 4  # answered from its cache
