"""Single loud hosts and campaigns whose senders probe every port, in the generated packets.

The oracle is the packets themselves (addresses, ports, times, and the fingerprint
tags the ingest path gives them), with iptocc for the host's country.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from datetime import UTC, datetime

import iptocc
import numpy as np
import pytest

from teiten.decode import decode_batch
from teiten.fingerprint import TAG_BITS, tag_packets
from teiten.simulate import load_scenario, parse_scenario
from teiten.simulate.population import dotted

from ._sim import SENSORS, assert_same_bytes, chunks, small_config, with_truth

START, END = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 5, tzinfo=UTC)
DARKNET = sum(s.size for s in SENSORS)  # 384 addresses

SCENARIO = parse_scenario(
    """
name = "hosts"

[[campaigns]]
id = "both-ports"
like = "web-scan"
ports = { 7001 = 0.85, 7002 = 0.15 }
ports_per_source = "all"
weight = 0.05
source_share = 0.02

[[campaigns]]
id = "one-port-each"
like = "zmap"
ports = { 8001 = 0.5, 8002 = 0.5 }
ports_per_source = "one"
weight = 0.03
source_share = 0.01

[[hosts]]
id = "kr-ssh"
like = "zmap"
country = "KR"
ports = { 22 = 1.0 }
packets = 5000
at = 2024-03-02T06:00:00
until = 2024-03-03T06:00:00

[[hosts]]
id = "nl-vnc"
like = "masscan"
country = "NL"
ports = ["5900/tcp", "5901/tcp"]
packets = 3000
at = 2024-03-04T00:00:00
until = 2024-03-07T00:00:00
""",
    "hosts.toml",
)


def _config(**kw: object):
    kw.setdefault("scenario", SCENARIO)
    return small_config(100_000, seed=8, start=START, end=END, **kw)


@pytest.fixture(scope="module")
def generated():
    return with_truth(_config())


def _columns(cs) -> dict[str, np.ndarray]:
    """Per-packet name, source, destination, port and time of every chunk."""
    names = np.array([b.name for b in cs[0].population.behaviours])
    return {
        "name": np.concatenate([names[c.behaviour] for c in cs]),
        "src": np.concatenate([c.src for c in cs]),
        "dst": np.concatenate([c.dst for c in cs]),
        "dport": np.concatenate([c.dport for c in cs]),
        "ts": np.concatenate([c.batch.ts_ns for c in cs]),
    }


def _ns(when: str) -> int:
    return int(datetime.fromisoformat(when).timestamp()) * 10**9


def _host(truth, ident: str) -> dict:
    return next(h for h in truth["hosts"] if h["id"] == ident)


def test_a_host_is_one_address_with_exactly_its_packets_in_its_span(generated):
    _, cs, truth = generated
    col = _columns(cs)
    mine = col["name"] == "kr-ssh"
    (addr,) = np.unique(col["src"][mine])
    assert mine.sum() == 5000 and (col["src"] == addr).sum() == 5000  # nobody else uses it
    ts = col["ts"][mine]
    assert ts.min() >= _ns("2024-03-02T06:00:00+00:00")
    assert ts.max() < _ns("2024-03-03T06:00:00+00:00")
    assert ts.max() - ts.min() > 20 * 3600 * 10**9  # spread over its day, not a blip
    assert set(col["dport"][mine].tolist()) == {22}
    (address,) = dotted(np.array([addr]))
    assert iptocc.country_code([address]) == ["KR"]
    host = _host(truth, "kr-ssh")
    assert (host["address"], host["country"], host["packets"]) == (address, "KR", 5000)
    assert host["ports"] == {"22/tcp": 1.0} and host["start"].startswith("2024-03-02T06:00")
    assert host["daily"] == {"2024-03-02": sum(ts < _ns("2024-03-03T00:00:00+00:00")),
                             "2024-03-03": sum(ts >= _ns("2024-03-03T00:00:00+00:00"))}  # fmt: skip
    assert truth["by_behaviour"]["kr-ssh"] == {
        "packets": 5000, "sources": 1, "kind": "probe", "proto": "tcp"
    }  # fmt: skip


def test_a_host_scans_the_darknet_like_a_scanner(generated):
    _, cs, _ = generated
    col = _columns(cs)
    order = np.argsort(col["ts"], kind="stable")
    dst = col["dst"][order][col["name"][order] == "kr-ssh"]
    assert len(np.unique(dst[:DARKNET])) == DARKNET  # every address once before any twice
    hits = np.unique(dst, return_counts=True)[1]
    assert len(hits) == DARKNET and hits.max() - hits.min() <= 1


def test_a_host_carries_its_behaviours_fingerprint(generated):
    _, cs, _ = generated
    tagged = {"kr-ssh": [], "nl-vnc": []}
    for c in cs:
        names = np.array([b.name for b in c.population.behaviours])[c.behaviour]
        tags = tag_packets(decode_batch(c.batch))
        for name, found in tagged.items():
            found.append(tags[names == name])
    zmap, masscan = 1 << TAG_BITS["zmap"], 1 << TAG_BITS["masscan"]
    kr, nl = (np.concatenate(tagged[n]) for n in ("kr-ssh", "nl-vnc"))
    assert len(kr) == 5000 and (kr & zmap).all() and not (kr & masscan).any()
    assert len(nl) and (nl & masscan).all() and not (nl & zmap).any()


def test_a_host_past_the_end_sends_its_share_and_probes_every_port(generated):
    _, cs, truth = generated
    col = _columns(cs)
    mine = col["name"] == "nl-vnc"
    assert mine.sum() == 1000  # a third of its span falls inside the simulation
    ports, counts = np.unique(col["dport"][mine], return_counts=True)
    assert ports.tolist() == [5900, 5901] and counts.min() > 400
    host = _host(truth, "nl-vnc")
    assert (host["requested"], host["packets"], host["country"]) == (3000, 1000, "NL")
    assert truth["daily"]["by_country_port"]["NL"]["5900/tcp"][3] > 0  # named series kept


def test_totals_stay_exact_with_hosts(generated):
    config, cs, truth = generated
    assert sum(len(c) for c in cs) == truth["packets"] == config.packets
    assert sum(b["packets"] for b in truth["by_behaviour"].values()) == config.packets
    assert truth["scenario"]["hosts"][0]["id"] == "kr-ssh"


def test_every_sender_of_an_all_ports_campaign_probes_both_ports(generated):
    _, cs, _ = generated
    col = _columns(cs)
    mine = col["name"] == "both-ports"
    on = {p: set(col["src"][mine & (col["dport"] == p)].tolist()) for p in (7001, 7002)}
    assert len(on[7001]) > 20 and on[7001] == on[7002]
    share = (col["dport"][mine] == 7001).mean()
    assert 0.75 < share < 0.9  # the rest still follows the weights


def test_one_port_per_sender_keeps_the_ports_apart(generated):
    _, cs, _ = generated
    col = _columns(cs)
    mine = col["name"] == "one-port-each"
    on = {p: set(col["src"][mine & (col["dport"] == p)].tolist()) for p in (8001, 8002)}
    assert on[8001] and on[8002] and not on[8001] & on[8002]


def test_same_seed_same_bytes_with_hosts(generated):
    _, first, _ = generated
    assert_same_bytes(first, chunks(_config()))


def test_hosts_cannot_send_more_than_the_total():
    with pytest.raises(
        ValueError, match=r"hosts send 6,000 packets in the span, more than packets=4,000"
    ):
        small_config(4_000, start=START, end=END, scenario=SCENARIO)


# What the generator made before hosts and ports_per_source existed: without them the
# bytes must not move (pinned with the iptocc data they were made with).
GOLDEN_IPTOCC = "3.3.170"
GOLDEN = {
    "plain": "aa0440e64fa8a4f8f959097a29569bfe9347f9f81d77c3cb66122573b85c2621",
    "calm": "1aa84796547dbc790d9db28c7105f7dea829d1adf7ff701524dd2af8f8c9eeb9",
}


def _digest(config) -> str:
    h = hashlib.sha256()
    for c in chunks(config):
        for part in (c.batch.ts_ns, c.batch.data, c.batch.offset):
            h.update(part.tobytes())
    return h.hexdigest()


@pytest.mark.skipif(
    importlib.metadata.version("iptocc") != GOLDEN_IPTOCC,
    reason="the pinned bytes were made with another iptocc data version",
)
def test_without_the_new_keys_the_bytes_are_unchanged():
    assert _digest(small_config(20_000)) == GOLDEN["plain"]
    assert _digest(small_config(20_000, scenario=load_scenario("calm"))) == GOLDEN["calm"]
