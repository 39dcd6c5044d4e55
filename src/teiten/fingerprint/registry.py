"""Stable tag labels and their bits in the stored ``tags`` column.

Every packet row carries ``tags`` (uint32): bit ``TAG_BITS[label]`` is set when
the fingerprint ``label`` matched at ingest. Bits are part of the store format:
a label keeps its bit forever and a retired label's bit is never reused. SQL
reads them through the DuckDB macro ``has_tag(tags, 'mirai')`` that
:class:`teiten.store.Engine` defines from this table.
"""

from __future__ import annotations

from collections.abc import Iterable

from teiten.errors import OptionError

__all__ = ["INFECTION_TAGS", "TAG_BITS", "has_tag_sql", "tag_labels", "tag_mask", "tag_sql_macro"]

TAG_BITS: dict[str, int] = {
    # scanner tools
    "mirai": 0,
    "zmap": 1,
    "masscan": 2,
    # backscatter kinds (replies of hosts whose address was spoofed as ours)
    "bs-synack": 8,
    "bs-rst": 9,
    "bs-icmp-echo-reply": 10,
    "bs-icmp-unreachable": 11,
    "bs-icmp-time-exceeded": 12,
    "bs-icmp-other-error": 13,
    "bs-icmp-other-reply": 14,
    # spoofing / erratic packets (CAIDA corsaro3 filter rules)
    "src-eq-dst": 16,
    "port-zero": 17,
    "ip-reserved-flag": 18,
    "abnormal-tcp-flags": 19,
    # source lists
    "research": 24,
}

# Tags that say the source is an infected device, not a tool someone runs: Mirai and its
# variants (a TCP SYN whose sequence number equals the destination address). ZMap and
# Masscan scans are run on purpose, by researchers and attackers alike.
INFECTION_TAGS = ("mirai",)


def tag_mask(labels: Iterable[str], option: str = "--tag") -> int:
    """The bit mask of ``labels``.

    An unknown label is an :class:`OptionError` naming ``option`` (the CLI option or
    setting it came from) and listing the known labels.
    """
    mask = 0
    for label in labels:
        if label not in TAG_BITS:
            raise OptionError(
                f"{option}: unknown tag {label!r}; known tags are {', '.join(TAG_BITS)}"
            )
        mask |= 1 << TAG_BITS[label]
    return mask


def tag_labels(mask: int) -> list[str]:
    """Labels whose bits are set in ``mask``, in registry order."""
    return [label for label, bit in TAG_BITS.items() if mask >> bit & 1]


def has_tag_sql(label: str, column: str = "tags") -> str:
    """SQL (any engine): whether ``column``'s bits include ``label``'s tag."""
    if label not in TAG_BITS:
        raise ValueError(f"unknown tag label {label!r}")
    return f"({column} >> {TAG_BITS[label]}) & 1 = 1"


def tag_sql_macro() -> str:
    """``CREATE MACRO has_tag(tags, label)`` for DuckDB, from :data:`TAG_BITS`."""
    cases = " ".join(f"WHEN '{label}' THEN {bit}" for label, bit in TAG_BITS.items())
    return (
        "CREATE OR REPLACE MACRO has_tag(tags, label) AS "
        f"coalesce((tags >> (CASE label {cases} END)) & 1 = 1, false)"
    )
