"""AS numbers from dated offline data: read a public file once, look addresses up fast.

``read_asn_file`` reads iptoasn TSV, CAIDA prefix2as or an ASN ``.mmdb``
(:mod:`~teiten.enrich.asn.formats`); ``build_table`` turns its ranges into an
:class:`AsnTable` (:mod:`~teiten.enrich.asn.table`), which the store keeps per
edition (:mod:`teiten.store.asn`) and :class:`~teiten.enrich.geo.AsnTableTagger`
tags sources from.
"""

from teiten.enrich.asn.formats import FORMATS, AsnSource, detect_format, read_asn_file
from teiten.enrich.asn.table import AsnTable, Ranges, build_table

__all__ = [
    "FORMATS",
    "AsnSource",
    "AsnTable",
    "Ranges",
    "build_table",
    "detect_format",
    "read_asn_file",
]
