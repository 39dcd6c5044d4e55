"""Generated packets: exact totals, time order, determinism, and each behaviour's fingerprint.

Fingerprints are checked on packets parsed by dpkt, an independent decoder,
with the generator's own per-packet behaviour label as the oracle.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from itertools import pairwise

import dpkt
import numpy as np
import pytest

from teiten.simulate import CATALOGUE

from ._sim import SENSORS, chunks, frames, ip_of, small_config


@pytest.fixture(scope="module")
def generated():
    config = small_config()
    return config, chunks(config)


def _by_behaviour(generated) -> dict[str, list[dpkt.ip.IP]]:
    _, cs = generated
    out: dict[str, list[dpkt.ip.IP]] = {}
    for chunk in cs:
        names = [b.name for b in chunk.population.behaviours]
        for label, frame in zip(chunk.behaviour.tolist(), frames(chunk), strict=True):
            out.setdefault(names[label], []).append(ip_of(frame))
    return out


def test_exact_total_in_time_order_within_the_span(generated):
    config, cs = generated
    assert sum(len(c) for c in cs) == config.packets
    ts = np.concatenate([c.batch.ts_ns for c in cs])
    assert (np.diff(ts) >= 0).all()
    assert ts[0] >= config.start.timestamp() * 1e9 and ts[-1] < config.end.timestamp() * 1e9
    numbers = [c.batch.first_number for c in cs]
    assert numbers == list(np.cumsum([1] + [len(c) for c in cs[:-1]]))


def test_same_seed_same_bytes_other_seed_other_bytes(generated):
    _, first = generated
    again = chunks(small_config())
    assert len(again) == len(first)
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a.batch.ts_ns, b.batch.ts_ns)
        assert frames(a) == frames(b)
    other = chunks(small_config(seed=12))
    assert frames(other[0])[:100] != frames(first[0])[:100]


def test_every_behaviour_appears(generated):
    assert set(_by_behaviour(generated)) == set(CATALOGUE)


def test_destinations_are_the_sensors_prefixes(generated):
    _, cs = generated
    nets = [s.network for s in SENSORS]
    for chunk in cs[:2]:
        for sensor, dst in zip(chunk.sensor.tolist(), chunk.dst.tolist(), strict=True):
            assert ipaddress.IPv4Address(dst) in nets[sensor]
    seen = Counter(np.concatenate([c.sensor for c in cs]).tolist())
    assert seen[0] > seen[1] > 0  # a /24 hears about twice what a /25 hears


def test_sources_are_public_and_outside_the_darknet(generated):
    _, cs = generated
    addrs = np.unique(np.concatenate([c.src for c in cs]))
    for a in addrs[:: max(1, len(addrs) // 2000)].tolist():
        ip = ipaddress.IPv4Address(a)
        assert ip.is_global and not any(ip in s.network for s in SENSORS), ip


def test_headers_match_the_columns(generated):
    _, cs = generated
    chunk = cs[0]
    for i, frame in list(enumerate(frames(chunk)))[:3000]:
        ip = ip_of(frame)
        assert int.from_bytes(ip.src, "big") == chunk.src[i]
        assert int.from_bytes(ip.dst, "big") == chunk.dst[i]
        assert ip.p == chunk.proto[i]
        if ip.p in (6, 17):
            assert (ip.data.sport, ip.data.dport) == (chunk.sport[i], chunk.dport[i])


def test_mirai_sequence_is_the_destination(generated):
    for ip in _by_behaviour(generated)["mirai"]:
        tcp = ip.data
        assert tcp.flags == dpkt.tcp.TH_SYN and tcp.off == 5 and not tcp.opts
        assert tcp.seq == int.from_bytes(ip.dst, "big")
        assert tcp.dport in (23, 2323, 37215, 52869, 5555, 80, 8080)


def test_zmap_ip_id_window_and_ttl(generated):
    for ip in _by_behaviour(generated)["zmap"]:
        assert ip.id == 54321 and ip.data.win == 65535 and ip.data.off == 5
        assert 200 <= ip.ttl < 255


def test_masscan_ip_id_formula(generated):
    for ip in _by_behaviour(generated)["masscan"]:
        tcp = ip.data
        dst = int.from_bytes(ip.dst, "big")
        assert ip.id == (dst ^ tcp.dport ^ tcp.seq) & 0xFFFF
        assert tcp.win == 1024 and tcp.off == 5


def test_one_source_port_per_mirai_bot_and_masscan_scan(generated):
    for name in ("mirai", "masscan"):
        ports: dict[bytes, set[int]] = {}
        for ip in _by_behaviour(generated)[name]:
            ports.setdefault(ip.src, set()).add(ip.data.sport)
        assert all(len(p) == 1 for p in ports.values()), name


def test_windows_stacks_count_ip_ids_up_over_time(generated):
    per_source: dict[bytes, list[int]] = {}
    for ip in _by_behaviour(generated)["smb-worm"]:
        assert ip.ttl <= 128 and ip.df
        assert dpkt.tcp.parse_opts(ip.data.opts)[0] == (dpkt.tcp.TCP_OPT_MSS, b"\x05\xb4")
        per_source.setdefault(ip.src, []).append(ip.id)
    steps = [(b - a) & 0xFFFF for ids in per_source.values() for a, b in pairwise(ids)]
    assert steps and all(s == 1 for s in steps)


def test_backscatter_answers_from_service_ports(generated):
    by = _by_behaviour(generated)
    for ip in by["backscatter-synack"]:
        assert ip.data.flags == dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK and ip.data.sport in (80, 443)
    for ip in by["backscatter-rst"]:
        assert ip.data.flags & dpkt.tcp.TH_RST and ip.data.sport in (80, 443)
    for ip in by["backscatter-echo-reply"]:
        assert ip.data.type == dpkt.icmp.ICMP_ECHOREPLY
    for ip in by["backscatter-unreachable"]:
        assert (ip.data.type, ip.data.code) == (3, 3)
        quoted = ip.data.data.data  # the datagram the victim refused: from us, to it
        assert quoted.src == ip.dst and quoted.dst == ip.src and quoted.p == 17


def test_udp_probes_carry_their_service_request(generated):
    seen = Counter()
    for ip in _by_behaviour(generated)["udp-probe"]:
        port, payload = ip.data.dport, ip.data.data
        seen[port] += 1
        if port == 53:
            assert dpkt.dns.DNS(payload).qd[0].name == "example.com"
        elif port == 1900:
            assert payload.startswith(b"M-SEARCH * HTTP/1.1\r\n")
        elif port == 5060:
            assert payload.startswith(b"OPTIONS sip:")
    assert set(seen) == {53, 123, 1900, 5060, 161, 11211, 137}


def test_ttls_are_an_initial_ttl_minus_some_hops(generated):
    _, cs = generated
    for chunk in cs:
        ttl = chunk.population.ttl[chunk.source]
        near = np.min(np.abs(ttl[:, None].astype(int) - np.array([64, 128, 255])), axis=1)
        assert ((near >= 5) & (near < 25)).all()


def test_raw_ip_frames():
    config = small_config(2_000)
    eth, raw = chunks(config)[0], chunks(config, linktype="raw")[0]
    assert raw.batch.linktype[0] == 101 and eth.batch.linktype[0] == 1
    for with_link, bare in zip(frames(eth), frames(raw), strict=True):
        assert with_link[14 : 14 + len(bare)] == bare
        assert len(with_link) == max(60, 14 + len(bare))  # padded to Ethernet's minimum
        assert not any(with_link[14 + len(bare) :])


def test_bursts_are_cut_so_chunks_stay_bounded():
    config = small_config(
        60_000, behaviours={name: 0.0 for name in CATALOGUE if name != "zmap"}, chunk_packets=4096
    )
    sizes = [len(c) for c in chunks(config)]
    assert sum(sizes) == 60_000 and max(sizes) <= 3 * 4096


def test_zero_packets_is_an_empty_simulation():
    assert chunks(small_config(0)) == []


def test_only_enabled_behaviours_send():
    config = small_config(5_000, behaviours={n: 0.0 for n in CATALOGUE if n != "mirai"})
    names = {b.name for c in chunks(config) for b in c.population.behaviours}
    assert names == {"mirai"}
