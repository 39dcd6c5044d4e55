"""The collector: receives sensors' batches over HTTP(S) and stores each exactly once.

``teiten collector serve --config collector.toml`` runs :func:`serve`; sensors
are registered with ``teiten sensors add`` (:class:`Registry`). The wire format
is :mod:`teiten.transport.wire`; see ``docs/collector.md``.
"""

from teiten.collector.app import create_app
from teiten.collector.config import CollectorConfig, load_config
from teiten.collector.prefixes import PrefixSet
from teiten.collector.registry import RegisteredSensor, Registry
from teiten.collector.serve import serve
from teiten.collector.writer import Outcome, StoreWriter, UploadedBatch
from teiten.errors import CollectorConfigError, Refusal, StoreWriteError

__all__ = [
    "CollectorConfig",
    "CollectorConfigError",
    "Outcome",
    "PrefixSet",
    "Refusal",
    "RegisteredSensor",
    "Registry",
    "StoreWriteError",
    "StoreWriter",
    "UploadedBatch",
    "create_app",
    "load_config",
    "serve",
]
