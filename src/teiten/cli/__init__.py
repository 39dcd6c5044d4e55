"""The ``teiten`` command: a thin layer over the library.

One module per command family; each registers its commands on :data:`main` when
the command is first asked for (:data:`teiten.cli.common.COMMANDS`).
Library errors (:class:`teiten.errors.TeitenError`) become one-line messages
and exit status 1; usage errors exit 2 (click's convention).
"""

from teiten.cli.common import emit_json, json_option, main, store_option

__all__ = ["emit_json", "json_option", "main", "store_option"]
