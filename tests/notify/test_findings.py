"""The finding kinds: each a named rule with a severity and an evidence rule in SQL, and
the notify package's public names pinned."""

from __future__ import annotations

from datetime import date

import pytest

import teiten.notify
from teiten.notify.findings import KINDS, NOT_OFFERED, SEVERITIES
from teiten.store.queries.notify import EVIDENCE, findings


def test_the_facade_is_pinned() -> None:
    assert sorted(teiten.notify.__all__) == sorted(
        [
            "COLUMNS", "KINDS", "NOT_OFFERED", "BuildReport", "BuiltFeed", "Feed", "Kind",
            "NotifyConfig", "Outcome", "Recipient", "Thresholds", "build_feeds", "find",
            "load_config", "send_feeds",
        ]
    )  # fmt: skip
    for name in teiten.notify.__all__:
        assert getattr(teiten.notify, name) is not None


def test_every_kind_has_a_rule_a_severity_and_a_basis() -> None:
    assert set(KINDS) == set(EVIDENCE)
    assert not set(KINDS) & set(NOT_OFFERED)
    for name, kind in KINDS.items():
        assert kind.name == name and kind.severity in SEVERITIES
        assert kind.evidence and kind.basis
    assert [k for k, v in KINDS.items() if v.infection] == ["mirai", "smb-worm"]


def test_a_statement_asks_only_for_the_kinds_given() -> None:
    masks = {"mirai": 1, "tools": 6, "research": 1 << 24}
    statement = findings("duckdb", "keys", *_days(), ["mirai"], masks=masks,
                         smb_min_packets=10, smb_min_share=0.9, top=10)  # fmt: skip
    assert "'mirai' AS finding" in statement.sql and "'scanner'" not in statement.sql
    assert "tools" not in statement.params and statement.params["mirai"] == 1
    with pytest.raises(ValueError, match="no evidence rule"):
        findings("duckdb", "keys", *_days(), ["worm"], masks=masks,
                 smb_min_packets=10, smb_min_share=0.9, top=10)  # fmt: skip


def _days() -> tuple[date, date]:
    return date(2024, 3, 1), date(2024, 3, 2)
