"""The public surface of teiten.enrich is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import teiten.enrich


def test_public_names() -> None:
    assert teiten.enrich.__all__ == [
        "AsnTableTagger",
        "GeoTagger",
        "GeoTags",
        "MmdbTagger",
        "RirTagger",
        "country_name",
        "icmp_type_name",
        "open_geo",
        "port_registry",
        "protocol_name",
        "service_name",
    ]
    for name in teiten.enrich.__all__:
        assert getattr(teiten.enrich, name).__doc__
