"""The report's DoS paragraph: regions by attacks with ties grouped, the focus country's
victims, and Internet-wide rates only from a darknet large enough to support them.

The store is built through the real pipeline: a hand-written pcap of SYN-ACK backscatter
from victims whose addresses the bundled RIR data places in known countries, ingested
with geo tagging.
"""

from __future__ import annotations

import re
import socket
from pathlib import Path

import dpkt
import pytest

from teiten.analyze.darknet import ESTIMATE_MIN_SIZE
from teiten.analyze.dos import dos_attacks
from teiten.analyze.periods import parse_period
from teiten.enrich import open_geo
from teiten.ingest import ingest
from teiten.report import build_report, write_report
from teiten.report.settings import ReportSettings
from teiten.store import DuckDBEngine, Store
from teiten.store.sensors import declare_sensor

from .test_build import cli_json

DAY = "2024-05-01"
T0 = 1_714_564_800.0  # 2024-05-01T12:00:00Z
# (victim, country by the RIR data, packets, start offset in s); one attack each,
# 2 s apart (30 in every minute). The US has 3 attacks on 2 victims but fewer packets
# than GB's one; JP's is the smallest.
ATTACKS = [
    ("12.0.0.1", "US", 40, 0),
    ("12.0.0.1", "US", 40, 1_000),  # after 300 s of silence: a second attack
    ("8.8.8.8", "US", 40, 0),
    ("81.2.69.1", "GB", 400, 0),
    ("193.166.0.1", "FI", 150, 0),
    ("1.0.1.1", "CN", 80, 0),
    ("62.4.1.1", "FR", 60, 0),
    ("133.1.1.1", "JP", 45, 0),
]


def _pcap(path: Path) -> Path:
    frames = []
    for victim, _, packets, start in ATTACKS:
        for i in range(packets):
            tcp = dpkt.tcp.TCP(
                sport=80, dport=40_000 + i, seq=i, ack=1, flags=dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK
            )
            ip = dpkt.ip.IP(
                src=socket.inet_aton(victim),
                dst=socket.inet_aton(f"198.51.100.{i % 250 + 1}"),
                p=dpkt.ip.IP_PROTO_TCP,
                ttl=52,
                data=tcp,
            )
            ip.len = 20 + len(bytes(tcp))
            eth = dpkt.ethernet.Ethernet(
                src=b"\x02" * 6, dst=b"\x04" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip
            )
            frames.append((T0 + start + 2 * i, bytes(eth)))
    with path.open("wb") as f:
        writer = dpkt.pcap.Writer(f)
        for ts, frame in sorted(frames):
            writer.writepkt(frame, ts=ts)
    return path


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("dos-text")
    store = Store(root / "store")
    ingest([_pcap(root / "backscatter.pcap")], store, open_geo(), sensor="lab")
    return store


def _report(
    store: Store, addresses: int, lang: str, focus: str = "JP", published: bool = False
) -> str:
    """The report's Markdown; ``published``: with sensor counts (publish_sensor_counts)."""
    declare_sensor(store, "lab", addresses=addresses)
    settings = ReportSettings(publish_sensor_counts=published)
    period = parse_period(DAY)
    data = build_report(store, period, focus_country=focus, findings=[], settings=settings)
    out = Path(store.root).parent / f"r-{addresses}-{focus}-{lang}-{published}.md"
    (path,) = [p for p in write_report(data, out, lang=lang, fmt="md") if p.suffix == ".md"]
    text = path.read_text()
    return re.sub(r"\s+", " ", text)


def test_the_pcap_gives_the_planted_attacks(store):
    declare_sensor(store, "lab", addresses=256)
    with DuckDBEngine(store) as engine:
        report = dos_attacks(engine, parse_period(DAY))
    got = sorted((r["victim"], r["country"], r["packets"]) for r in report.rows)
    assert got == sorted((v, c, n) for v, c, n, _ in ATTACKS)


def test_regions_are_ranked_by_attacks_with_ties_grouped(store):
    # packet order would put GB (400) first; ties (one attack on one victim each) go
    # by packets, GB 400 … FR 60, and JP's 45 is cut off at the top 5
    en = _report(store, 256, "en")
    sentence = re.search(
        r"Ranked by attacks \(then victims, then packets\), the victims were in (.*?)\. ", en
    )
    assert sentence is not None, en
    us, tied = sentence.group(1).split("; ")
    assert re.fullmatch(r"(the )?United States \(3 attacks\)", us)
    assert tied.endswith(" and 1 more (1 each)")
    names = tied.removesuffix(" and 1 more (1 each)").split(", ")
    assert [n.removeprefix("the ") for n in names] == [
        "United Kingdom",
        "Finland",
        "China",
        "France",
    ]
    ja = _report(store, 256, "ja")
    assert "米国（3件）、次いで英国、フィンランド、中国、フランスほか1地域（各1件）" in ja, ja


def test_focus_country_victims_are_named_by_count(store):
    assert "Victims in Japan: 1 (attacks: 1)." in _report(store, 256, "en")
    assert "日本国内の被害ホストは1件（攻撃1件）でした。" in _report(store, 256, "ja")
    assert re.search(
        r"Victims in (the )?United States: 2 \(attacks: 3\)\.", _report(store, 256, "en", "US")
    )
    assert "No victims in Germany were seen." in _report(store, 256, "en", "DE")
    assert "ドイツ国内の被害ホストは観測されませんでした。" in _report(store, 256, "ja", "DE")


def test_a_small_darknet_prints_no_internet_wide_rate(store):
    # the fastest: 40 packets over 78 s, 0.51 pps at the darknet; × 2^32 / 256 = 8.6 million
    en = _report(store, 256, "en", published=True)
    assert "The highest attack rate observed at the darknet was 0.51 packets/s." in en
    assert "No Internet-wide rate is estimated" in en and "65,536 addresses (a /16)" in en
    assert "estimated Internet-wide" not in en and "million" not in en
    assert "Rate observed at the darknet (pps)" in en
    ja = _report(store, 256, "ja", published=True)
    assert "ダークネットで観測した攻撃レートの最大値は毎秒0.51パケットでした。" in ja
    assert "インターネット全体での攻撃レートは推定していません" in ja
    assert "万" not in ja.split("DoS")[-1]  # no extrapolated figure in the DoS part
    assert "推定攻撃レート" not in ja


def test_a_large_declared_darknet_prints_the_estimate_with_its_bounds(store):
    # 40 / 78 s × 2^32 / 2^16 = 33,608 pps; 95 % interval ± 1.96 / √40 = ± 31 %
    rate = 40 / 78 * 2**16
    en = _report(store, ESTIMATE_MIN_SIZE, "en", published=True)
    assert f"was {rate:,.1f} packets/s (95 % interval of the packet count: " in en, en
    low, high = rate * (1 - 1.959964 / 40**0.5), rate * (1 + 1.959964 / 40**0.5)
    assert f"{low:,.1f}–{high:,.1f}" in en
    assert "times 65,536 (2^32 / the darknet's size)" in en
    assert "spoofed source addresses uniformly over the IPv4 space" in en
    assert "No Internet-wide rate is estimated" not in en
    assert "Estimated attack rate (pps)" in en
    ja = _report(store, ESTIMATE_MIN_SIZE, "ja", published=True)
    assert f"毎秒{rate / 1e4:,.1f}万パケットと推定されます" in ja
    assert "65,536倍" in ja and "一様に詐称したと仮定" in ja


def test_without_sensor_counts_no_rate_gives_the_darknet_size_away(store):
    """The estimate stays, but neither its scale (2^32 / size) nor the darknet's own rate,
    nor the attacks' packets: with the estimate they would give the size."""
    rate = 40 / 78 * 2**16
    en = _report(store, ESTIMATE_MIN_SIZE, "en")
    assert f"was {rate:,.1f} packets/s (95 % interval of the packet count: " in en
    assert "65,536 (2^32" not in en and "observed at the darknet was" not in en
    assert "Estimated attack rate (pps)" in en and "| Packets |" not in en
    ja = _report(store, ESTIMATE_MIN_SIZE, "ja")
    assert f"毎秒{rate / 1e4:,.1f}万パケットと推定されます" in ja and "65,536倍" not in ja
    small = _report(store, 256, "en")
    assert "No Internet-wide rate is estimated" in small
    assert "0.51 packets/s" not in small and "Rate observed at the darknet" not in small


def test_the_simulated_quarter_agrees_with_the_cli(report_store, report_data, rendered):
    """On the shared simulated store: the order, the ties and the focus count of
    ``teiten events dos --json``'s rows, and no extrapolated rate from its small darknet."""
    store = ("--store", str(report_store.root), "--period", "2019Q2", "--limit", "100000")
    data = cli_json("events", "dos", *store)
    groups: dict = {}
    for r in data["rows"]:
        g = groups.setdefault(r["country"], {"events": 0, "victims": set(), "packets": 0})
        g["events"] += 1
        g["victims"].add(r["victim"])
        g["packets"] += r["packets"]
    expected = sorted(
        groups,
        key=lambda c: (-groups[c]["events"], -len(groups[c]["victims"]), -groups[c]["packets"]),
    )
    d = report_data.dos
    assert [c["country"] for c in d.by_country] == expected[: len(d.by_country)]
    assert sum(g["regions"] for g in d.country_groups) <= len(groups)
    for g in d.country_groups:
        assert {groups[c]["events"] for c in g["countries"]} == {g["events"]}
    jp = groups.get("JP", {"events": 0, "victims": set()})
    assert d.focus == {"country": "JP", "events": jp["events"], "actors": len(jp["victims"])}
    assert data["estimate_supported"] is False and d.max_rate is None
    en = rendered["en", "md"].read_text()
    assert "No Internet-wide rate is estimated" in en and "Estimated attack rate" not in en
    assert ("Victims in Japan:" if jp["events"] else "No victims in Japan") in en
