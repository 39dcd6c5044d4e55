"""One small simulated store for every report test: two quarters, 300 k packets.

Built once per session (about 7 s): the demo's sensors and behaviours, ingested
per sensor and day, so 2019Q2 has a previous quarter to compare with.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from teiten.analyze.periods import parse_period
from teiten.analyze.phenomena import Finding
from teiten.demo import run_demo
from teiten.report import ReportData, build_report, write_report
from teiten.store import Store

PERIOD = "2019Q2"
PACKETS = 300_000


def hand_built_findings() -> list[Finding]:
    """Findings as the review leaves them (:mod:`teiten.analyze.phenomena.review`), by hand:
    two headlines and one for the appendix."""
    dates = [f"2019-04-{d:02d}" for d in range(1, 31)]
    return [
        Finding(
            kind="surge",
            subject={"port": 5432, "proto": "tcp"},
            title={"ja": "5432/TCP宛てのパケットの急増", "en": "Surge of packets to 5432/TCP"},
            text={
                "ja": "4月10日から5432/TCP（PostgreSQL）宛てのパケットが急増しました。",
                "en": "Packets to 5432/TCP (PostgreSQL) surged from April 10.",
            },
            evidence={
                "series": {
                    "dates": dates,
                    "values": {"5432/tcp": [5.0] * 9 + [80.0] * 21},
                },
                "statistic": 16.0,
                "threshold": 4.0,
                "dates": ["2019-04-10"],
            },
            score=3.0,
            start="2019-04-10",
            end="2019-04-30",
            sources=120,
            top_sources_share=[0.05, 0.12],
            notable=True,
            headline=True,
        ),
        Finding(
            kind="mirai_share",
            subject={"country": "JP"},
            title={
                "ja": "日本からのMirai型パケットの増加",
                "en": "More Mirai-type packets from Japan",
            },
            text={"ja": "日本からのMirai型の割合が上がりました。", "en": "The share rose."},
            evidence={"series": {"dates": dates, "values": {"JP": [0.1] * 15 + [None] * 15}}},
            score=1.0,
            start="2019-04-01",
            end="2019-04-15",
            sources=40,
            notable=True,
            headline=True,
        ),
        Finding(
            kind="surge",
            subject={"country": "GE"},
            title={"ja": "ジョージアからのパケットの急増", "en": "Surge of packets from Georgia"},
            text={
                "ja": "ジョージアからのパケットが増えました。",
                "en": "Packets from Georgia rose.",
            },
            evidence={"review": {"not_notable": ["volume", "one-host"]}},
            score=0.1,
            start="2019-05-02",
            end="2019-05-03",
            sources=3,
            top_sources_share=[0.9, 1.0],
            attribution="one-host",
        ),
    ]


@pytest.fixture(scope="session")
def report_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    result = run_demo(tmp_path_factory.mktemp("report-demo"), packets=PACKETS, seed=11)
    return result.store


@pytest.fixture(scope="session")
def report_data(report_store: Store) -> ReportData:
    return build_report(report_store, parse_period(PERIOD), findings=hand_built_findings())


@pytest.fixture(scope="session")
def rendered(report_data: ReportData, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{(lang, fmt): path}`` of the HTML and Markdown reports in both languages."""
    out = tmp_path_factory.mktemp("reports")
    paths = {}
    for lang in ("ja", "en"):
        for fmt in ("html", "md"):
            paths[lang, fmt] = write_report(
                report_data, out / f"report-{lang}.{fmt}", lang=lang, fmt=fmt
            )[0]
    return paths


class _Text(HTMLParser):
    """The visible text of an HTML page (no <style>, <title> or SVG <title>); words
    apart only where elements other than inline ones (<span>, <a>, …) part them."""

    INLINE = frozenset({"a", "abbr", "b", "code", "em", "i", "small", "span", "strong", "sup"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "title", "head"):
            self._skip += 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "head"):
            self._skip -= 1
        if tag not in self.INLINE:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def sensor_prefix_forms() -> list[str]:
    """Every textual form of the simulated sensors' prefixes a leak could take."""
    from teiten.simulate.config import DEFAULT_SENSORS

    forms = []
    for sensor in DEFAULT_SENSORS:
        net = sensor.network
        a, b, c, _ = str(net.network_address).split(".")
        forms += [
            str(net),  # 198.18.0.0/24
            f"{a}.{b}.{c}.",  # any address of the /24, dotted
            f"::ffff:{a}.{b}.{c}.",  # IPv4-mapped
            f"{int(a):02x}{int(b):02x}{int(c):02x}",  # hex of the /24 (c61200)
            f"{int(a):02x}{int(b):02x}:{int(c):02x}",  # ::ffff:c612:00xx
        ]
    return forms
