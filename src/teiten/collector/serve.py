"""Run the collector under uvicorn (``teiten collector serve --config collector.toml``).

uvicorn's access log is off: it would print each sensor's client address. The
collector logs one line per batch itself (sensor label, batch id, outcome) on
stderr, where systemd's journal picks it up.
"""

from __future__ import annotations

import logging

import uvicorn

from teiten.collector.app import create_app
from teiten.collector.config import CollectorConfig

__all__ = ["serve"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def serve(config: CollectorConfig) -> None:
    """Serve until SIGINT/SIGTERM; queued batches are stored before it returns."""
    level = getattr(logging, config.log_level.upper())
    logging.basicConfig(level=level, format=LOG_FORMAT)
    uvicorn.run(
        create_app(config),
        host=config.host,
        port=config.port,
        ssl_certfile=str(config.certfile) if config.certfile else None,
        ssl_keyfile=str(config.keyfile) if config.keyfile else None,
        log_config=None,
        log_level=level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
