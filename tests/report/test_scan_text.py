"""The report's scan paragraph states the definition in effect at the darknet, not its size.

One hand-built store: a scan of 120 addresses and one of 20; declared as a /22 the
threshold is the floor, 10 (both are scans, and the rate condition removes none), as a
/8 it is Durumeric et al.'s own 100 at 10 packets/s Internet-wide (one scan).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyze._events import darknet, probes, store_with
from teiten.analyze.periods import parse_period
from teiten.report import build_report, write_report
from teiten.report.settings import ReportSettings
from teiten.store import Store
from teiten.store.sensors import declare_sensor

DAY = "2024-05-01"
SLASH22 = darknet("198.51.100.0/22")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("scan-text")
    rows = probes("203.0.113.9", [i * 0.5 for i in range(120)], SLASH22, dport=23)
    rows += probes("203.0.113.10", [i * 15.0 for i in range(20)], SLASH22[::50], dport=22)
    return store_with(root / "store", rows)


def _report(store: Store, addresses: int, lang: str, *, counts: bool = False) -> tuple[str, dict]:
    declare_sensor(store, "s1", addresses=addresses)
    settings = ReportSettings(publish_sensor_counts=counts)
    data = build_report(store, parse_period(DAY), findings=[], settings=settings)
    out = Path(store.root).parent / f"r-{addresses}-{lang}-{counts}.md"
    (path,) = [p for p in write_report(data, out, lang=lang, fmt="md") if p.suffix == ".md"]
    return re.sub(r"\s+", " ", path.read_text()), data.scans.parameters


def _paragraph(text: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r".*?" + re.escape(end), text)
    assert found is not None, text
    return found.group(0)


def test_a_small_darknet_states_the_scaled_threshold(store):
    en, parameters = _report(store, 1024, "en")
    scans = _paragraph(en, "Counting as a scan", "so it removes none.")
    assert scans.startswith(
        "Counting as a scan one source probing one port at 10 or more darknet addresses "
        "(the definition of Durumeric et al., 2014, with their threshold of 100 addresses of "
        "a /8 scaled to this darknet's size, and at least 10), there were 2 scans from 2 sources."
    )
    assert scans.endswith(
        "The second condition, an estimated Internet-wide rate of at least 10 packets/s, is met "
        "by every such scan at a darknet of this size (a silence of more than 8 min ends a "
        "scan), so it removes none."
    )
    assert "1,024" not in scans and "1024" not in scans
    assert "min_rate_darknet" not in parameters and parameters["rate_condition"] == "implied"
    ja, _ = _report(store, 1024, "ja")
    scans = _paragraph(ja, "一つの送信元から", "件数を減らしません。")
    assert "ダークネットの10以上のアドレスに届いたものをスキャンとして数えると" in scans
    assert "/8で100アドレスという同論文のしきい値をこのダークネットの規模に換算し" in scans
    assert "下限を10としたもの" in scans and "スキャンは2件、送信元は2件" in scans
    assert "1,024" not in scans and "1024" not in scans


def test_a_declared_slash8_states_durumerics_definition(store):
    en, parameters = _report(store, 1 << 24, "en", counts=True)
    scans = _paragraph(en, "Counting as a scan", "sources.")
    assert scans == (
        "Counting as a scan one source probing one port at 100 or more darknet addresses at an "
        "estimated Internet-wide rate of at least 10 packets/s (the definition of Durumeric et "
        "al., 2014, with their threshold of 100 addresses of a /8 scaled to this darknet's "
        "size, and at least 10), there were 1 scans from 1 sources."
    )
    assert "removes none" not in en
    assert parameters["rate_condition"] == "internet-wide"
    ja, _ = _report(store, 1 << 24, "ja", counts=True)
    assert "ダークネットの100以上のアドレスに届き、" in ja
    assert "インターネット全体で毎秒10パケット以上と推定されるものをスキャンとして数える" in ja
    assert "スキャンは1件、送信元は1件" in ja


def test_a_scaled_threshold_above_its_floor_is_not_published_without_counts(store):
    """By default a report publishes no darknet size: the /8's threshold (100, above the
    floor of 10) would give it away through the scaling rule, so it is not printed."""
    en, parameters = _report(store, 1 << 24, "en")
    scans = _paragraph(en, "Counting as a scan", "size.")
    assert "at enough darknet addresses" in scans and "100 or more" not in scans
    assert "with the scaling rule it would tell the darknet's size" in scans
    assert parameters["min_destinations"] == 100  # the thresholds in effect stay the same
    ja, _ = _report(store, 1 << 24, "ja")
    assert "ダークネットの規模に応じたしきい値以上のアドレスに届き" in ja
    assert "100以上の" not in ja and "掲載していません" in ja
