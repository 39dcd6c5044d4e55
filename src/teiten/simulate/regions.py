"""Where senders sit: each country's address space (found with iptocc) and its local time.

Addresses come from a sample of random public IPv4 addresses whose countries
are looked up once with iptocc (offline RIR delegation data), so a source said
to be in Vietnam really is in Vietnamese address space.
"""

from __future__ import annotations

from collections.abc import Sequence

import iptocc
import numpy as np

__all__ = [
    "ISO_COUNTRIES",
    "PEAK_LOCAL_H",
    "UTC_OFFSET",
    "cidr_mask",
    "country_pools",
    "dotted",
    "spread",
]

# Never a source on the Internet (RFC 6890 special-purpose space, multicast, reserved).
RESERVED = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/3",
)  # fmt: skip

# Rough UTC offsets (hours) of the main source countries, for the diurnal swing.
UTC_OFFSET = {
    "CN": 8, "US": -6, "BR": -3, "IN": 5.5, "RU": 3, "TW": 8, "VN": 7, "KR": 9, "NL": 1,
    "DE": 1, "JP": 9, "GB": 0, "ID": 7, "IR": 3.5, "TH": 7, "EG": 2, "TR": 3, "MX": -6,
    "FR": 1, "AR": -3, "UA": 2, "HK": 8, "SG": 8, "IT": 1, "PL": 1, "RO": 2, "BG": 2,
    "CA": -5, "AU": 10, "ES": 1, "PK": 5, "BD": 6, "PH": 8, "MY": 8, "ZA": 2, "CO": -5,
}  # fmt: skip
PEAK_LOCAL_H = 20.0  # bots swing with the day, peaking at this local hour

# ISO 3166-1 alpha-2: the codes a scenario may name for a single host (GB, not UK).
_ISO_3166 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRIES = frozenset(_ISO_3166.split())

_OCTETS = [str(i) for i in range(256)]


def dotted(addrs: np.ndarray) -> list[str]:
    """IPv4 addresses (uint32) as dotted-quad strings, for iptocc and tshark comparisons."""
    octets = np.asarray(addrs, dtype=np.uint32).astype(">u4").view(np.uint8).reshape(-1, 4)
    columns = (map(_OCTETS.__getitem__, octets[:, k].tolist()) for k in range(4))
    return [".".join(quad) for quad in zip(*columns, strict=True)]


def cidr_mask(addrs: np.ndarray, cidrs: Sequence[str]) -> np.ndarray:
    """Which ``addrs`` (uint32) fall in any of ``cidrs``."""
    hit = np.zeros(addrs.shape, dtype=bool)
    for cidr in cidrs:
        net, length = cidr.split("/")
        a, b, c, d = (int(x) for x in net.split("."))
        mask = (0xFFFFFFFF << (32 - int(length))) & 0xFFFFFFFF
        hit |= (addrs & np.uint32(mask)) == np.uint32((a << 24 | b << 16 | c << 8 | d) & mask)
    return hit


def country_pools(
    rng: np.random.Generator, n: int, exclude: Sequence[str]
) -> dict[str, np.ndarray]:
    """``n`` random public addresses (minus ``exclude``) grouped by the country iptocc gives."""
    probes = rng.integers(1 << 24, 224 << 24, size=n, dtype=np.uint32)
    probes = probes[~cidr_mask(probes, (*RESERVED, *exclude))]
    codes = np.array([c or "" for c in iptocc.country_code(dotted(probes))], dtype="U2")
    order = np.argsort(codes, kind="stable")
    names, starts = np.unique(codes[order], return_index=True)
    groups = np.split(probes[order], starts[1:])
    return {str(k): g for k, g in zip(names, groups, strict=True) if k}


def spread(
    rng: np.random.Generator, addr: np.ndarray, codes: np.ndarray, sensors: Sequence[str]
) -> np.ndarray:
    """Each address moved within its /24, where iptocc still gives it the same country.

    Spreads sources over whole /24s of their pool address; keeps the pool address
    itself where the neighbour belongs elsewhere (or to no one), so iptocc agrees.
    """
    moved = (addr & np.uint32(0xFFFFFF00)) | rng.integers(1, 255, size=len(addr), dtype=np.uint32)
    same = np.array(iptocc.country_code(dotted(moved)), dtype=object) == codes
    return np.where(same & ~cidr_mask(moved, sensors), moved, addr)
