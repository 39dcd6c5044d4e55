"""Run the collector under uvicorn (``teiten collector serve --config collector.toml``).

uvicorn's access log is off: it would print each sensor's client address. The
collector logs one line per batch itself (sensor label, batch id, outcome) on
stderr, where systemd's journal picks it up.
"""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from teiten.collector.app import create_app
from teiten.collector.config import CollectorConfig

__all__ = ["run_app", "serve"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def serve(config: CollectorConfig) -> None:
    """Serve until SIGINT/SIGTERM; queued batches are stored before it returns."""
    run_app(create_app(config), config, graceful_seconds=30)


def run_app(app: Any, config: Any, *, graceful_seconds: int) -> None:
    """Run ``app`` under uvicorn as ``config`` (host, port, TLS files, log level) says:
    no access log (it would print client addresses), no server header."""
    level = getattr(logging, config.log_level.upper())
    logging.basicConfig(level=level, format=LOG_FORMAT)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        ssl_certfile=str(config.certfile) if config.certfile else None,
        ssl_keyfile=str(config.keyfile) if config.keyfile else None,
        log_config=None,
        log_level=level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=graceful_seconds,
    )
