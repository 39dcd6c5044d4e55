"""Run the web server under uvicorn (``teiten serve``).

uvicorn's access log is off: it would print each client's address (and the query
strings, which may name a source). The server logs errors itself, by endpoint.
"""

from __future__ import annotations

from teiten.collector.serve import run_app
from teiten.errors import OptionError
from teiten.web.app import create_app, is_loopback
from teiten.web.config import WebConfig
from teiten.web.tokens import Tokens

__all__ = ["serve"]


def serve(config: WebConfig) -> None:
    """Serve until SIGINT/SIGTERM. Listening beyond this machine without public mode
    needs operator tokens: without them, it refuses to start."""
    if config.store is None:
        raise OptionError("no store: give --store DIR (or [store] path in the config)")
    if not config.public and not is_loopback(config.host) and not Tokens(config.store).list():
        raise OptionError(
            f"--host {config.host} serves beyond this machine: add an operator token first "
            "(`teiten web tokens add NAME`), or serve aggregates only with --public"
        )
    run_app(create_app(config), config, graceful_seconds=10)
