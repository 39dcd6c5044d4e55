"""Who the sources are, and names for output.

Tagging depends only on a packet's source, so it runs once per distinct source at
ingest (:class:`GeoTagger`); the names are for reports and tables.
"""

from teiten.enrich.countries import country_name
from teiten.enrich.geo import GeoTagger, GeoTags, MmdbTagger, RirTagger, open_geo
from teiten.enrich.services import icmp_type_name, port_registry, protocol_name, service_name

__all__ = [
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
