"""Simulated darknet traffic, whose ground truth says which sender built each packet.

Every packet of the simulator's ``mirai``, ``zmap`` and ``masscan`` behaviours
(built after scanner.c, ZMap's packet.c and masscan's templ-pkt.c) must carry
its tag, and every backscatter behaviour its ``bs-*`` kind. Other senders match
a scanner rule only by chance (a random IP ID that happens to be 54321 on a UDP
or ICMP probe); each such packet is re-checked with dpkt, so the totals stored
from the written captures equal ``truth.json`` plus exactly those chance matches.
"""

from __future__ import annotations

import json
from collections import Counter

import dpkt
import pytest

from simulate._sim import chunks, frames, small_config
from teiten.decode import decode_batch
from teiten.enrich import open_geo
from teiten.fingerprint import TAG_BITS, tag_labels, tag_packets
from teiten.ingest import ingest
from teiten.simulate import TRUTH_FILE, simulate_to_pcap
from teiten.store import DuckDBEngine, Store

CONFIG = small_config(60_000, seed=5)
TOOLS = ("mirai", "zmap", "masscan")
BACKSCATTER = {
    "backscatter-synack": "bs-synack",
    "backscatter-rst": "bs-rst",
    "backscatter-echo-reply": "bs-icmp-echo-reply",
    "backscatter-unreachable": "bs-icmp-unreachable",
}


def _rule_holds(label: str, frame: bytes) -> bool:
    """The scanner rules, recomputed with dpkt from the frame's bytes."""
    ip = dpkt.ethernet.Ethernet(frame).data
    l4 = ip.data
    dst = int.from_bytes(ip.dst, "big")
    syn = isinstance(l4, dpkt.tcp.TCP) and l4.flags == 0x02
    if label == "mirai":
        return syn and l4.seq == dst
    if label == "masscan":
        return syn and l4.win == 1024 and ip.id == (dst ^ l4.dport ^ l4.seq) & 0xFFFF
    if label == "zmap":
        other = isinstance(l4, dpkt.udp.UDP) or (isinstance(l4, dpkt.icmp.ICMP) and l4.type == 8)
        return ip.id == 54321 and ((syn and l4.win == 65535) or (other and ip.ttl >= 200))
    raise AssertionError(label)


@pytest.fixture(scope="module")
def tagged():
    """Per (behaviour, tag) packet counts, and the chance matches of other senders."""
    counts: Counter[tuple[str, str]] = Counter()
    behaviours: Counter[str] = Counter()
    chance: Counter[str] = Counter()
    for chunk in chunks(CONFIG):
        tags = tag_packets(decode_batch(chunk.batch))
        names = [b.name for b in chunk.population.behaviours]
        chunk_frames = None
        for i, (b, t) in enumerate(zip(chunk.behaviour.tolist(), tags.tolist(), strict=True)):
            behaviours[names[b]] += 1
            for label in tag_labels(t):
                counts[names[b], label] += 1
                if label in TOOLS and names[b] != label:
                    chunk_frames = chunk_frames or frames(chunk)
                    assert _rule_holds(label, chunk_frames[i]), (names[b], label)
                    chance[label] += 1
    return counts, behaviours, chance


def test_every_scanner_packet_carries_its_tool(tagged):
    counts, behaviours, chance = tagged
    for tool in TOOLS:
        assert counts[tool, tool] == behaviours[tool] > 1000
    # Chance matches are rare: a random 16-bit IP ID equal to 54321.
    assert sum(chance.values()) <= 5


def test_every_backscatter_packet_carries_its_kind(tagged):
    counts, behaviours, _ = tagged
    for behaviour, label in BACKSCATTER.items():
        assert counts[behaviour, label] == behaviours[behaviour] > 100
        assert sum(n for (b, t), n in counts.items() if t == label) == behaviours[behaviour]


def test_no_spoofing_flags_on_well_formed_senders(tagged):
    counts, _, _ = tagged
    flags = ("src-eq-dst", "port-zero", "ip-reserved-flag", "abnormal-tcp-flags", "research")
    assert not [key for key in counts if key[1] in flags]


def test_stored_counts_equal_truth_json(tagged, tmp_path_factory):
    _, _, chance = tagged
    out = tmp_path_factory.mktemp("sim")
    paths = simulate_to_pcap(CONFIG, out / "captures", per="file")
    truth = json.loads((out / "captures" / TRUTH_FILE).read_text())["by_behaviour"]
    store = Store(out / "store")
    report = ingest(paths, store, open_geo())
    assert report.ok
    sums = ", ".join(f"count(*) FILTER (WHERE has_tag(tags, '{t}')) AS \"{t}\"" for t in TAG_BITS)
    with DuckDBEngine(store) as engine:
        (stored,) = engine.rows(f"SELECT {sums} FROM packets")
    for tool in TOOLS:
        assert stored[tool] == truth[tool]["packets"] + chance[tool], tool
    for behaviour, label in BACKSCATTER.items():
        assert stored[label] == truth[behaviour]["packets"], label
