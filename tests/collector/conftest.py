"""Fixtures for the collector tests: a running collector with one registered sensor."""

from __future__ import annotations

import pytest

from ._batches import PREFIXES
from ._server import CollectorServer


@pytest.fixture
def server(tmp_path):
    """A collector (small limits) with sensor ``tokyo-1``; ``server.token`` is its token."""
    srv = CollectorServer(tmp_path, max_body_bytes=1 << 20, max_concurrent_requests=2)
    srv.token = srv.register("tokyo-1", PREFIXES)
    srv.start()
    yield srv
    srv.stop()
