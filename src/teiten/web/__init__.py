"""The web dashboard and HTTP API over a store: ``teiten serve``.

Anyone may read the public aggregates (``[access] public``, after a publication
delay); operators see everything with a bearer token from ``teiten web tokens
add`` (:mod:`teiten.web.tokens`). Configured by ``web.toml``
(:mod:`teiten.web.config`); see ``docs/web.md``.
"""

__all__ = []
