"""teiten (定点): Internet fixed-point observation of darknet traffic.

The pipeline, one subpackage per stage::

    capture  → open_capture(path) yields PacketBatch columns over raw bytes
    decode   → decode_batch(batch) gives header fields as numpy columns
    enrich   → open_geo() tags sources with country/AS once per distinct source
    store    → Store(dir): day-partitioned Parquet + manifest; Engine: DuckDB SQL
    analyze  → parse_period("2019Q2"); rank(engine, "ports", period, ...)

``ingest(paths, store, geo)`` runs capture → decode → enrich → store, exactly once
per input. The ``teiten`` command is a thin layer over these.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from teiten.errors import TeitenError

if TYPE_CHECKING:  # loaded on first use (below), so a command imports only its stages
    from teiten.analyze.periods import Period, parse_period
    from teiten.analyze.rankings import Filters, Ranking, rank
    from teiten.capture import PacketBatch, open_capture
    from teiten.decode import DecodedPackets, decode_batch
    from teiten.enrich import open_geo
    from teiten.ingest import IngestReport, ingest
    from teiten.store import Store

try:
    __version__ = version("teiten")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = [
    "DecodedPackets",
    "Filters",
    "IngestReport",
    "PacketBatch",
    "Period",
    "Ranking",
    "Store",
    "TeitenError",
    "__version__",
    "decode_batch",
    "ingest",
    "open_capture",
    "open_geo",
    "parse_period",
    "rank",
]

_LAZY = {
    "Period": "teiten.analyze.periods",
    "parse_period": "teiten.analyze.periods",
    "Filters": "teiten.analyze.rankings",
    "Ranking": "teiten.analyze.rankings",
    "rank": "teiten.analyze.rankings",
    "PacketBatch": "teiten.capture",
    "open_capture": "teiten.capture",
    "DecodedPackets": "teiten.decode",
    "decode_batch": "teiten.decode",
    "open_geo": "teiten.enrich",
    "IngestReport": "teiten.ingest",
    "ingest": "teiten.ingest",
    "Store": "teiten.store",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'teiten' has no attribute {name!r}")
