"""Who the sources are, and names for output.

Tagging depends only on a packet's source, so it runs once per distinct source at
ingest (:class:`GeoTagger`); the names are for reports and tables.
"""

from typing import TYPE_CHECKING

from teiten.enrich.countries import country_name
from teiten.enrich.services import icmp_type_name, port_registry, protocol_name, service_name

if TYPE_CHECKING:  # loaded on first use (below): queries need the names, not the tagger
    from teiten.enrich.geo import (
        AsnTableTagger,
        GeoTagger,
        GeoTags,
        MmdbTagger,
        RirTagger,
        open_geo,
    )

__all__ = [
    "AsnTableTagger",
    "GeoTagger",
    "GeoTags",
    "MmdbTagger",
    "RirTagger",
    "country_name",
    "icmp_type_name",
    "open_geo",
    "port_registry",
    "protocol_name",
    "service_name",
]


_GEO = {"AsnTableTagger", "GeoTagger", "GeoTags", "MmdbTagger", "RirTagger", "open_geo"}


def __getattr__(name: str) -> object:
    # The tagger pulls in numba (its address cache); a query does not need it.
    if name in _GEO:
        from teiten.enrich import geo

        return getattr(geo, name)
    raise AttributeError(f"module 'teiten.enrich' has no attribute {name!r}")
