"""`teiten report`: (being built)."""

from __future__ import annotations

from teiten.cli.common import main  # noqa: F401 - commands register on main
