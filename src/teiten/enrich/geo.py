"""Country and AS of each source address, looked up once per distinct source.

A darknet sees the same scanners again and again: a chunk of a million packets often
has only tens of thousands of distinct sources, and the next chunk mostly the same
ones. So :meth:`GeoTagger.tag` answers known sources from a cache (IPv4: a compiled
hash table probed per packet; IPv6: sorted 16-byte keys and one ``searchsorted`` per
chunk) and asks the database only about sources it has never seen. Bogons (private,
reserved, multicast …) are unknown without asking.

Two databases are built in: the RIR delegated statistics shipped inside ``iptocc``
(offline, country only, the default) and any MaxMind-format ``.mmdb`` file
(GeoLite2/GeoIP2, DB-IP, IPinfo), which can also carry the AS number; there, new
sources that fall in the same database network share one query. AS numbers can
also come from an AS table imported into the store (:class:`AsnTableTagger`,
``teiten asn import``), beside either.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version

import iptocc
import maxminddb
import numpy as np
import pyarrow as pa

from teiten.closing import Closing
from teiten.enrich.addresses import IPV4, IPV6, Family, as_address_rows, ipv4_mapped
from teiten.enrich.asn.table import AsnTable
from teiten.enrich.hashcache import IPv4AnswerCache
from teiten.enrich.mmdb_fields import record_asn, record_country
from teiten.errors import GeoDatabaseError

__all__ = ["AsnTableTagger", "GeoTagger", "GeoTags", "MmdbTagger", "RirTagger", "open_geo"]

#: Distinct addresses remembered per family before the cache starts over.
DEFAULT_CACHE_LIMIT = 4_000_000

_Lookup = tuple[list[str | None], list[int | None] | None]


@dataclass(frozen=True, slots=True)
class GeoTags:
    """Country and AS of each input row, as columns.

    ``country_code[i]`` indexes ``countries`` (ISO 3166-1 alpha-2, plus registry
    codes such as ``EU``); -1 means unknown. Indices are stable for the life of
    one tagger, so tags of successive chunks share one ``countries`` vocabulary.
    ``asn[i]`` is meaningful only where ``has_asn[i]``.
    """

    country_code: np.ndarray  # int16
    countries: list[str]
    asn: np.ndarray  # uint32
    has_asn: np.ndarray  # bool

    def __len__(self) -> int:
        return int(self.country_code.shape[0])

    def country_array(self) -> pa.DictionaryArray:
        """Countries as a dictionary-encoded Arrow column, null where unknown."""
        indices = pa.array(self.country_code, mask=self.country_code < 0, type=pa.int16())
        return pa.DictionaryArray.from_arrays(indices, pa.array(self.countries, pa.string()))

    def asn_array(self) -> pa.UInt32Array:
        """AS numbers as an Arrow column, null where unknown."""
        return pa.array(self.asn, mask=~self.has_asn, type=pa.uint32())


class _KnownIPv6:
    """Answers already found for IPv6 keys, sorted for searchsorted.

    (IPv4 answers, the hot path, are in an :class:`IPv4AnswerCache`.)
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.keys = np.empty(0, IPV6.dtype)
        self.country = np.empty(0, np.int16)
        self.asn = np.empty(0, np.uint32)
        self.has_asn = np.empty(0, bool)

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position of each (sorted, distinct) key in the cache, and whether it is there."""
        pos = np.searchsorted(self.keys, keys)
        found = np.zeros(keys.shape, bool)
        inside = pos < len(self)
        found[inside] = self.keys[pos[inside]] == keys[inside]
        return pos, found

    def add(
        self, keys: np.ndarray, country: np.ndarray, asn: np.ndarray, has_asn: np.ndarray
    ) -> None:
        """Merge sorted keys that are not yet known; start over when the limit is hit."""
        if len(keys) > self.limit:
            return
        if len(self) + len(keys) > self.limit:
            self.keys, self.country = self.keys[:0], self.country[:0]
            self.asn, self.has_asn = self.asn[:0], self.has_asn[:0]
        pos = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, pos, keys)
        self.country = np.insert(self.country, pos, country)
        self.asn = np.insert(self.asn, pos, asn)
        self.has_asn = np.insert(self.has_asn, pos, has_asn)


class GeoTagger(Closing, ABC):
    """Tags source addresses with country (and AS, if the database has it).

    ``database`` and ``edition`` say which data answered, for the report.
    """

    database: str  # which data: "iptocc (RIR delegated statistics)", "GeoLite2-Country"
    edition: str  # which release of it: "iptocc 3.3.170", "GeoLite2-ASN build 2024-05-01"

    @abstractmethod
    def tag(self, addrs: np.ndarray) -> GeoTags:
        """Country and AS of each row of ``addrs`` (``uint8[n, 16]``, IPv6 or IPv4-mapped)."""

    def close(self) -> None:
        """Release the database (a no-op for in-memory data)."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.edition}>"


class _CachingTagger(GeoTagger):
    """A tagger that asks its database once per distinct, routable address it has not seen.

    Subclasses answer sorted keys of one address family: :meth:`_lookup` with a value
    per key, or :meth:`_answer` with arrays (a lookup without a Python loop per key).
    """

    def __init__(self, cache_limit: int = DEFAULT_CACHE_LIMIT) -> None:
        self.countries: list[str] = []  # the vocabulary of every GeoTags this tagger returns
        self._index: dict[str | None, int] = {None: -1}
        self._v4 = IPv4AnswerCache(cache_limit)  # the hot path: most sources are IPv4
        self._v6 = _KnownIPv6(cache_limit)
        self.lookups = 0  # distinct addresses asked of the database so far
        self._lock = threading.Lock()  # ingest workers share one tagger and its caches

    def _lookup(self, family: Family, keys: np.ndarray) -> _Lookup:
        """Country code (or None) of each sorted key, and AS numbers (None if never known)."""
        raise NotImplementedError

    def tag(self, addrs: np.ndarray) -> GeoTags:
        with self._lock:
            return self._tag(addrs)

    def _tag(self, addrs: np.ndarray) -> GeoTags:
        rows = as_address_rows(addrs)
        n = rows.shape[0]
        country = np.full(n, -1, np.int16)
        asn = np.zeros(n, np.uint32)
        has_asn = np.zeros(n, bool)
        mapped, v4 = ipv4_mapped(rows)
        if v4.size == n:
            self._fill(IPV4, v4, slice(None), country, asn, has_asn)
        else:
            self._fill(IPV4, v4, mapped, country, asn, has_asn)
            self._fill(IPV6, rows[~mapped], ~mapped, country, asn, has_asn)
        return GeoTags(country, list(self.countries), asn, has_asn)

    def _fill(
        self,
        family: Family,
        values: np.ndarray,
        where: slice | np.ndarray,
        country: np.ndarray,
        asn: np.ndarray,
        has_asn: np.ndarray,
    ) -> None:
        """Tag ``values`` (the family's keys, or address rows) into ``where`` of the outputs."""
        if values.size == 0:
            return
        if family is IPV4:
            self._fill_ipv4(values, where, country, asn, has_asn)
            return
        distinct, inverse = family.distinct(values)
        d_country, d_asn, d_has_asn = self._resolve_ipv6(distinct)
        country[where] = d_country[inverse]
        asn[where] = d_asn[inverse]
        has_asn[where] = d_has_asn[inverse]

    def _fill_ipv4(
        self,
        keys: np.ndarray,
        where: slice | np.ndarray,
        country: np.ndarray,
        asn: np.ndarray,
        has_asn: np.ndarray,
    ) -> None:
        """IPv4: probe the compiled table per packet; ask only never-seen addresses."""
        c, a, h, miss = self._v4.probe(keys)
        if miss.any():
            new, inverse = IPV4.distinct(keys[miss])
            answers = self._ask(IPV4, new)
            self._v4.add(new, *answers)
            c[miss], a[miss], h[miss] = (answer[inverse] for answer in answers)
        country[where], asn[where], has_asn[where] = c, a, h

    def _resolve_ipv6(self, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Answers for sorted distinct IPv6 keys: from the cache, else from the database."""
        known = self._v6
        pos, found = known.find(distinct)
        hit = pos[found]
        country = np.empty(distinct.shape, np.int16)
        asn = np.empty(distinct.shape, np.uint32)
        has_asn = np.empty(distinct.shape, bool)
        country[found], asn[found], has_asn[found] = (
            known.country[hit],
            known.asn[hit],
            known.has_asn[hit],
        )
        missing = ~found
        if missing.any():
            new = distinct[missing]
            answers = self._ask(IPV6, new)
            country[missing], asn[missing], has_asn[missing] = answers
            known.add(new, *answers)
        return country, asn, has_asn

    def _ask(self, family: Family, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Look up new keys, skipping bogons."""
        country = np.full(keys.shape, -1, np.int16)
        asn = np.zeros(keys.shape, np.uint32)
        has_asn = np.zeros(keys.shape, bool)
        routable = ~family.bogon(keys)
        if not routable.any():
            return country, asn, has_asn
        asked = keys[routable]
        self.lookups += len(asked)
        country[routable], asn[routable], has_asn[routable] = self._answer(family, asked)
        return country, asn, has_asn

    def _answer(
        self, family: Family, keys: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Country index (-1 unknown), AS number and whether known, of routable sorted keys."""
        codes, numbers = self._lookup(family, keys)
        for code in sorted({code for code in codes if code is not None} - self._index.keys()):
            self._index[code] = len(self.countries)
            self.countries.append(code)
        index = self._index
        country = np.array([index[code] for code in codes], np.int16)
        if numbers is None:
            return country, np.zeros(keys.shape, np.uint32), np.zeros(keys.shape, bool)
        asn = np.array([number or 0 for number in numbers], np.uint32)
        return country, asn, np.array([number is not None for number in numbers], bool)


class RirTagger(_CachingTagger):
    """Country from the RIR delegated statistics bundled in ``iptocc`` (offline, no AS).

    The five registries' files say which country each block was assigned to, which is
    where the holder is registered, not necessarily where the host is.
    """

    database = "iptocc (RIR delegated statistics)"

    def __init__(self, cache_limit: int = DEFAULT_CACHE_LIMIT) -> None:
        super().__init__(cache_limit)
        self.edition = f"iptocc {version('iptocc')}"

    def _lookup(self, family: Family, keys: np.ndarray) -> _Lookup:
        return iptocc.country_code(family.text(keys)), None


class MmdbTagger(_CachingTagger):
    """Country and/or AS from a MaxMind-format database (GeoLite2, GeoIP2, DB-IP, IPinfo)."""

    def __init__(self, path: str | os.PathLike[str], cache_limit: int = DEFAULT_CACHE_LIMIT):
        super().__init__(cache_limit)
        self.path = os.fspath(path)
        try:
            self._reader = maxminddb.open_database(self.path)
            meta = self._reader.metadata()
            built = datetime.fromtimestamp(meta.build_epoch, UTC).date().isoformat()
        except (OSError, ValueError, OverflowError, maxminddb.InvalidDatabaseError) as exc:
            raise GeoDatabaseError(
                f"{self.path}: cannot open as a MaxMind DB (.mmdb) file ({exc}); give a "
                "GeoLite2/GeoIP2, DB-IP or IPinfo .mmdb file, or no file to use the "
                "built-in RIR country data"
            ) from exc
        self.database = str(meta.database_type)
        self.edition = f"{self.database} build {built}"
        self._ipv4_only = meta.ip_version == 4

    def close(self) -> None:
        self._reader.close()

    def _lookup(self, family: Family, keys: np.ndarray) -> _Lookup:
        """One query per database network: sorted keys that share it share its record."""
        n = len(keys)
        codes: list[str | None] = [None] * n
        asns: list[int | None] = [None] * n
        if family is IPV6 and self._ipv4_only:
            return codes, asns
        numbers = family.numbers(keys)
        query = self._reader.get_with_prefix_len
        i = 0
        try:
            while i < n:
                record, prefix_len = query(family.address(numbers[i]))
                host_bits = family.bits - min(max(prefix_len, 0), family.bits)
                j = bisect_right(numbers, numbers[i] | ((1 << host_bits) - 1), lo=i + 1)
                codes[i:j] = [record_country(record)] * (j - i)
                asns[i:j] = [record_asn(record)] * (j - i)
                i = j
        except maxminddb.InvalidDatabaseError as exc:
            raise GeoDatabaseError(
                f"{self.path}: damaged data while looking up {family.address(numbers[i])} "
                f"({exc}); download the database again"
            ) from exc
        return codes, asns


class AsnTableTagger(_CachingTagger):
    """AS numbers (no countries) from an AS table, e.g. the store's imported edition.

    The table answers all new sources of a chunk at once (:meth:`AsnTable.lookup`).
    """

    def __init__(self, table: AsnTable, cache_limit: int = DEFAULT_CACHE_LIMIT) -> None:
        super().__init__(cache_limit)
        self.table = table
        self.database = f"AS table ({table.source_format or 'unnamed'})"
        self.edition = f"AS table {table.edition or 'built in memory'}"

    def _answer(
        self, family: Family, keys: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        asn, found = self.table.lookup(family, keys)
        return np.full(keys.shape, -1, np.int16), asn, found


class _CombinedTagger(GeoTagger):
    """Country from one database, AS from a second one where the first has none."""

    def __init__(self, country: GeoTagger, asn: GeoTagger) -> None:
        self._country, self._asn = country, asn
        self.database = f"{country.database} + {asn.database}"
        self.edition = f"{country.edition}; {asn.edition}"

    def close(self) -> None:
        self._country.close()
        self._asn.close()

    def tag(self, addrs: np.ndarray) -> GeoTags:
        first = self._country.tag(addrs)
        second = self._asn.tag(addrs)
        asn = np.where(first.has_asn, first.asn, second.asn)
        return GeoTags(first.country_code, first.countries, asn, first.has_asn | second.has_asn)


def open_geo(
    mmdb_path: str | os.PathLike[str] | None = None,
    *,
    asn_path: str | os.PathLike[str] | None = None,
    asn_table: AsnTable | None = None,
) -> GeoTagger:
    """The tagger for a MaxMind-format file, or the built-in RIR data when no file is given.

    ``asn_path`` adds a second database (e.g. GeoLite2-ASN) for AS numbers where the
    first has none; countries still come from the first. Without one, ``asn_table``
    (the store's imported AS edition, :func:`teiten.store.asn.open_store_geo`) does:
    a database given explicitly wins over the table.
    """
    tagger: GeoTagger = RirTagger() if mmdb_path is None else MmdbTagger(mmdb_path)
    if asn_path is None:
        return tagger if asn_table is None else _CombinedTagger(tagger, AsnTableTagger(asn_table))
    try:
        return _CombinedTagger(tagger, MmdbTagger(asn_path))
    except GeoDatabaseError:
        tagger.close()
        raise
